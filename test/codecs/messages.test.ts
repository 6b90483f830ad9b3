import { test } from 'node:test';
import assert from 'node:assert/strict';
import { rng } from '../helpers/rng.js';
import { ProtocolError } from '../../src/codecs/pgwire/body-reader.js';
import { MessageWriter } from '../../src/codecs/pgwire/writer.js';
import { parseStartupPacket, startupPacketLength } from '../../src/codecs/pgwire/startup.js';
import { parseBind, parseParse, parsePassword, parseQuery, parseTarget } from '../../src/codecs/pgwire/frontend-messages.js';
import { parseErrorFields, writeErrorLike } from '../../src/codecs/pgwire/error-fields.js';


const startup = new MessageWriter().begin(0).int32(196608).cstring('user').cstring('alice').cstring('database').cstring('warehouse').cstring('application_name').cstring('psql').int8(0).end().take();
const parse = new MessageWriter().begin(0x50).cstring('s1').cstring('SELECT $1::int').int16(1).int32(23).end().take();
const bind = new MessageWriter().begin(0x42).cstring('p1').cstring('s1').int16(1).int16(0).int16(2).int32(2).bytes(Buffer.from('42')).int32(-1).int16(1).int16(1).end().take();
const query = new MessageWriter().begin(0x51).cstring('SELECT 1; SELECT 2').end().take();
const close = new MessageWriter().begin(0x43).int8(0x53).cstring('s1').end().take();
const password = new MessageWriter().begin(0x70).cstring('pcs_secret').end().take();
const error = writeErrorLike(new MessageWriter(), 0x45, { severity: 'ERROR', code: '42501', message: 'denied', detail: 'why', hint: 'ask', other: new Map([[0x50, '7']]) }).take();

test('fixtures parse to what was written', () => {
  const s = parseStartupPacket(startup, startupPacketLength(startup));
  assert.equal(s.type, 'startup');
  assert.deepEqual(s.type === 'startup' && Object.fromEntries(s.params), { user: 'alice', database: 'warehouse', application_name: 'psql' });
  assert.deepEqual(parseParse(parse, 0, parse.length), { name: 's1', sql: 'SELECT $1::int', paramTypes: [23] });
  const b = parseBind(bind, 0, bind.length);
  assert.deepEqual([b.portal, b.statement, b.params], ['p1', 's1', ['42', null]]);
  assert.equal(parseQuery(query, 0, query.length), 'SELECT 1; SELECT 2');
  assert.deepEqual(parseTarget(close, 0, close.length), { kind: 0x53, name: 's1' });
  assert.equal(parsePassword(password, 0, password.length), 'pcs_secret');
  const f = parseErrorFields(error, 5, error.length);
  assert.deepEqual([f.severity, f.code, f.message, f.detail, f.hint, f.other?.get(0x50)], ['ERROR', '42501', 'denied', 'why', 'ask', '7']);
});

test('startup packets are recognized only once complete, at every split', () => {
  for (let i = 0; i < startup.length; i++) assert.equal(startupPacketLength(startup.subarray(0, i)), 0, `prefix ${i}`);
  assert.equal(startupPacketLength(startup), startup.length);
});

test('NUL inside error text cannot smuggle extra fields', () => {
  const b = writeErrorLike(new MessageWriter(), 0x45, { severity: 'ERROR', code: '42501', message: 'a\0Cx' }).take();
  const f = parseErrorFields(b, 5, b.length);
  assert.equal(f.code, '42501');
  assert.equal(f.message, 'a\uFFFDCx');
});

test('truncated and mutated messages throw ProtocolError only, never anything else', () => {
  const seed = Number(process.env.FUZZ_SEED ?? Date.now() % 100000);
  const r = rng(seed);
  const parsers: [Buffer, (b: Buffer) => unknown][] = [
    [startup, (b) => parseStartupPacket(b, b.length)],
    [parse, (b) => parseParse(b, 0, b.length)],
    [bind, (b) => parseBind(b, 0, b.length)],
    [query, (b) => parseQuery(b, 0, b.length)],
    [close, (b) => parseTarget(b, 0, b.length)],
    [password, (b) => parsePassword(b, 0, b.length)],
    [error, (b) => parseErrorFields(b, 5, b.length)],
  ];
  for (const [fixture, parseIt] of parsers) {
    const inputs: Buffer[] = [];
    for (let i = 5; i < fixture.length; i++) inputs.push(fixture.subarray(0, i));
    for (let k = 0; k < 500; k++) {
      const m = Buffer.from(fixture);
      for (let j = 0; j < 1 + Math.floor(r() * 3); j++) m[5 + Math.floor(r() * (m.length - 5))] = Math.floor(r() * 256);
      inputs.push(m);
    }
    for (const input of inputs) {
      try {
        parseIt(input);
      } catch (e) {
        assert.ok(e instanceof ProtocolError, `seed ${seed}: ${(e as Error).name}: ${(e as Error).message}`);
      }
    }
  }
});
