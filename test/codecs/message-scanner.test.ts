import { test } from 'node:test';
import assert from 'node:assert/strict';
import { rng } from '../helpers/rng.js';
import { MessageScanner, KEEP, TAKEN, PAUSE, type ScanSink } from '../../src/codecs/pgwire/message-scanner.js';
import { MessageWriter } from '../../src/codecs/pgwire/writer.js';


function msg(code: number, body: string | Buffer): Buffer {
  const b = typeof body === 'string' ? Buffer.from(body + '\0') : body;
  return new MessageWriter().begin(code).bytes(b).end().take();
}

const Q = 0x51, D = 0x44, Z = 0x5a, d = 0x64;

/** Collects everything the sink sees; inspected messages are recorded and kept, replaced or paused. */
function collector(mode: 'keep' | 'replace') {
  const out: Buffer[] = [];
  const seen: string[] = [];
  let scanner: MessageScanner;
  const sink: ScanSink = {
    pass: (buf, s, e) => out.push(Buffer.from(buf.subarray(s, e))),
    message: (code, buf, s, e) => {
      seen.push(String.fromCharCode(code) + ':' + buf.toString('latin1', s + 5, e));
      if (mode === 'keep') return KEEP;
      scanner.flushRun();
      out.push(Buffer.from(`<${String.fromCharCode(code)}>`));
      return TAKEN;
    },
    violation: (r) => seen.push('violation:' + r),
  };
  scanner = new MessageScanner(sink, 1 << 20);
  return { scanner, out: () => Buffer.concat(out), seen };
}

const fixture = Buffer.concat([
  msg(Q, 'SELECT 1'),
  msg(D, Buffer.from([0, 1, 0, 0, 0, 3, 0x61, 0x62, 0x63])),
  msg(d, Buffer.alloc(300, 0x41)),
  msg(Z, Buffer.from('I')),
  msg(Q, "SELECT 'x'"),
  msg(0x53, Buffer.alloc(0)),
]);

test('every split of a fixture yields the same bytes and the same inspected messages', () => {
  const ref = collector('keep');
  ref.scanner.inspect[Q] = 1;
  ref.scanner.inspect[Z] = 1;
  ref.scanner.push(fixture);
  assert.deepEqual(ref.out(), fixture);
  assert.deepEqual(ref.seen, ['Q:SELECT 1\0', 'Z:I', "Q:SELECT 'x'\0"]);

  for (let i = 0; i <= fixture.length; i++) {
    for (let j = i; j <= fixture.length; j += 7) {
      const c = collector('keep');
      c.scanner.inspect[Q] = 1;
      c.scanner.inspect[Z] = 1;
      c.scanner.push(fixture.subarray(0, i));
      c.scanner.push(fixture.subarray(i, j));
      c.scanner.push(fixture.subarray(j));
      assert.deepEqual(c.out(), fixture, `split at ${i},${j}`);
      assert.deepEqual(c.seen, ref.seen, `split at ${i},${j}`);
      assert.ok(c.scanner.atBoundary);
    }
  }
});

test('replaced messages land exactly where the originals stood, for every split', () => {
  const expected = Buffer.concat([Buffer.from('<Q>'), fixture.subarray(msg(Q, 'SELECT 1').length, fixture.length - msg(Q, "SELECT 'x'").length - 5), Buffer.from('<Q>'), msg(0x53, Buffer.alloc(0))]);
  for (let i = 0; i <= fixture.length; i++) {
    const c = collector('replace');
    c.scanner.inspect[Q] = 1;
    c.scanner.push(fixture.subarray(0, i));
    c.scanner.push(fixture.subarray(i));
    assert.deepEqual(c.out(), expected, `split at ${i}`);
  }
});

test('a chunk whose messages all pass is relayed as the same Buffer, uncopied', () => {
  const passed: Buffer[] = [];
  const s = new MessageScanner({ pass: (b, st, e) => passed.push(st === 0 && e === b.length ? b : b.subarray(st, e)), message: () => KEEP, violation: () => assert.fail() });
  s.inspect[Z] = 1;
  s.push(fixture);
  assert.equal(passed.length, 1);
  assert.equal(passed[0], fixture);
});

test('pause stops after the message, queues later chunks and resumes in order', () => {
  const out: string[] = [];
  let scanner!: MessageScanner;
  scanner = new MessageScanner({
    pass: (b, s, e) => out.push('pass:' + (e - s)),
    message: (code, b, s, e) => {
      scanner.flushRun();
      out.push('msg:' + b.toString('latin1', s + 5, e - 1));
      return PAUSE;
    },
    violation: () => assert.fail(),
  });
  scanner.inspect[Q] = 1;
  const a = msg(Q, 'one'), b = msg(Q, 'two'), z = msg(Z, Buffer.from('I'));
  scanner.push(Buffer.concat([z, a, z, b]));
  assert.deepEqual(out, ['pass:6', 'msg:one']);
  assert.ok(scanner.paused);
  scanner.push(z);
  assert.deepEqual(out, ['pass:6', 'msg:one']);
  scanner.resume();
  assert.deepEqual(out, ['pass:6', 'msg:one', 'pass:6', 'msg:two']);
  scanner.resume();
  assert.deepEqual(out, ['pass:6', 'msg:one', 'pass:6', 'msg:two', 'pass:6']);
});

test('lengths below 4, above the limit and near 2^31 are violations, never throws', () => {
  for (const len of [0, 3, -1, 0x7fffffff, 0x7ffffff0, (1 << 20) + 1]) {
    const h = Buffer.alloc(9);
    h[0] = Q;
    h.writeInt32BE(len | 0, 1);
    const c = collector('keep');
    c.scanner.inspect[Q] = 1;
    c.scanner.push(h);
    assert.equal(c.seen.length, 1, `len ${len}`);
    assert.match(c.seen[0]!, /^violation:/);
    assert.ok(c.scanner.failed);
    c.scanner.push(fixture);
    assert.equal(c.seen.length, 1, 'nothing is scanned after a violation');
  }
});

test('random and mutated streams never throw and always end in a boundary or a violation', () => {
  const seed = Number(process.env.FUZZ_SEED ?? Date.now() % 100000);
  const r = rng(seed);
  for (let round = 0; round < 3000; round++) {
    let input: Buffer;
    if (round % 2 === 0) {
      input = Buffer.alloc(Math.floor(r() * 200));
      for (let i = 0; i < input.length; i++) input[i] = Math.floor(r() * 256);
    } else {
      input = Buffer.from(fixture);
      const flips = 1 + Math.floor(r() * 4);
      for (let k = 0; k < flips; k++) input[Math.floor(r() * input.length)] = Math.floor(r() * 256);
    }
    const c = collector(r() < 0.5 ? 'keep' : 'replace');
    for (let k = 0; k < 256; k++) c.scanner.inspect[k] = r() < 0.3 ? 1 : 0;
    let at = 0;
    try {
      while (at < input.length) {
        const n = 1 + Math.floor(r() * 40);
        c.scanner.push(input.subarray(at, at + n));
        at += n;
      }
    } catch (e) {
      assert.fail(`seed ${seed} round ${round}: threw ${(e as Error).message}`);
    }
    const total = c.out().length;
    assert.ok(total <= input.length + 3 * c.seen.length, `seed ${seed}: output never grows beyond input`);
  }
});
