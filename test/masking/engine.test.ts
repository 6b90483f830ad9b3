import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { loadModule } from 'libpg-query';
import { maskingSchema } from '../../src/masking/schema.js';
import { createMaskingEngine } from '../../src/masking/engine.js';
import { sqlLineage } from '../../src/masking/lineage.js';
import { staticCatalog } from '../../src/masking/catalog.js';
import { copyFormatOf, TEXT_COPY } from '../../src/masking/copy-data.js';

before(async () => {
  await loadModule();
});

const catalog = staticCatalog({ relations: { 'public.customers': ['id', 'name', 'email', 'ssn'], 'public.orders': ['id', 'note'] } });

const config = maskingSchema.parse({
  hash_key: 'k-test',
  detectors: ['card', 'email', 'ssn'],
  columns: [
    { match: 'public.customers.ssn', strategy: 'partial', keep_last: 4, groups: { dba: { strategy: 'clear' } } },
    { match: '*.*.email', strategy: 'hash' },
  ],
  profiles: { agents: { default_strategy: 'redact' }, support: { detectors: { card: false } } },
});
const engine = createMaskingEngine(config);

function dataRow(values: (string | null)[]): Buffer {
  const parts = values.map((v) => {
    if (v === null) {
      const b = Buffer.alloc(4);
      b.writeInt32BE(-1);
      return b;
    }
    const s = Buffer.from(v);
    const b = Buffer.alloc(4 + s.length);
    b.writeInt32BE(s.length);
    s.copy(b, 4);
    return b;
  });
  const body = Buffer.concat(parts);
  const out = Buffer.alloc(7 + body.length);
  out[0] = 0x44;
  out.writeInt32BE(6 + body.length, 1);
  out.writeInt16BE(values.length, 5);
  body.copy(out, 7);
  return out;
}

function readRow(b: Buffer): (string | null)[] {
  assert.equal(b[0], 0x44);
  assert.equal(b.readInt32BE(1), b.length - 1, 'length recomputed');
  const n = b.readInt16BE(5);
  const out: (string | null)[] = [];
  let p = 7;
  for (let i = 0; i < n; i++) {
    const len = b.readInt32BE(p);
    p += 4;
    out.push(len < 0 ? null : b.toString('utf8', p, p + len));
    p += Math.max(len, 0);
  }
  assert.equal(p, b.length);
  return out;
}

const cols = (sql: string) => {
  const lineage = sqlLineage(sql, catalog)[0]!;
  return { lineage, columns: lineage.columns.map((c) => ({ name: c.name, typeOid: 25, format: 0 })) };
};

test('schema: the issue shape parses; misuse is explained', () => {
  assert.equal(config.lineage_unknown, 'mask');
  assert.equal(config.binary.non_text, 'null');
  const bad = maskingSchema.safeParse({ columns: [{ match: 'public.customers.ssn', strategy: 'hash' }] });
  assert.ok(!bad.success && bad.error.issues.some((i) => /hash_key is required/.test(i.message)));
  const badMatch = maskingSchema.safeParse({ columns: [{ match: 'ssn' }] });
  assert.ok(!badMatch.success);
  const badTag = maskingSchema.safeParse({ columns: [{ match: 'tag:pii' }] });
  assert.ok(!badTag.success && /not defined/.test(badTag.error.issues[0]!.message));
  const badRe = maskingSchema.safeParse({ detectors: [{ name: 'x', pattern: '(' }] });
  assert.ok(!badRe.success);
});

test('a plan masks by lineage whatever the alias; untouched rows return null', () => {
  const q = cols("SELECT id, ssn || '' AS x, upper(email) AS e, name FROM customers");
  const plan = engine.planMasking(q)!;
  assert.deepEqual(plan.columns.map((c) => c.masked?.strategy), [undefined, 'partial', 'hash', undefined]);
  const out = plan.maskDataRow(dataRow(['1', '123-45-6789', 'ALICE@EXAMPLE.COM', 'Alice']), 0, dataRow(['1', '123-45-6789', 'ALICE@EXAMPLE.COM', 'Alice']).length)!;
  const row = readRow(out);
  assert.equal(row[1], '***-**-6789');
  assert.match(row[2]!, /^h_/);
  assert.equal(row[3], 'Alice');
  // Detectors still scan unmasked text columns; a clean row needs no change.
  const none = engine.planMasking(cols('SELECT id, name FROM customers'))!;
  const clean = dataRow(['1', 'Alice']);
  assert.equal(none.maskDataRow(clean, 0, clean.length), null);
  const dirty = dataRow(['1', 'mail me: bob@example.com']);
  assert.match(readRow(none.maskDataRow(dirty, 0, dirty.length)!)[1]!, /^mail me: \*\*\*\*$/);
});

test('no rules touched and no detectors: planMasking returns null (zero-copy)', () => {
  const bare = createMaskingEngine(maskingSchema.parse({ columns: [{ match: 'public.customers.ssn' }] }));
  assert.equal(bare.planMasking(cols('SELECT id, note FROM orders')), null);
  assert.notEqual(bare.planMasking(cols('SELECT ssn FROM customers')), null);
  assert.equal(createMaskingEngine(undefined).planMasking(cols('SELECT ssn FROM customers')), null);
});

test('profiles and groups: agents redact, dba sees clear, unknown profile fails closed', () => {
  const q = cols('SELECT ssn FROM customers');
  const row = dataRow(['123-45-6789']);
  const m = (o: object) => engine.planMasking({ ...q, ...o });
  assert.equal(readRow(m({ profiles: ['agents'] })!.maskDataRow(Buffer.from(row), 0, row.length)!)[0], '****');
  const dba = m({ groups: ['dba'] });
  assert.ok(dba === null || dba.columns[0]!.masked === undefined);
  assert.equal(m({ profiles: ['nope'] })!.columns[0]!.masked?.strategy, 'redact');
});

test('in place when lengths match: the original buffer is rewritten', () => {
  const plan = engine.planMasking({ ...cols('SELECT ssn FROM customers'), profiles: [] })!;
  const buf = Buffer.concat([Buffer.from('xx'), dataRow(['123-45-6789'])]);
  const out = plan.maskDataRow(buf, 2, buf.length)!;
  assert.equal(out.buffer, buf.buffer);
  assert.equal(buf.toString('utf8', 2 + 11), '***-**-6789');
});

test('unknown lineage is masked conservatively; lineage_unknown: allow lets it through', () => {
  const q = cols('SELECT my_func(id) FROM customers');
  assert.equal(engine.planMasking(q)!.columns[0]!.masked?.strategy, 'redact');
  const lax = createMaskingEngine(maskingSchema.parse({ lineage_unknown: 'allow', columns: [{ match: 'public.customers.ssn' }] }));
  assert.equal(lax.planMasking(q), null);
  // Without lineage a column with no table source counts as unknown.
  assert.equal(engine.planMasking({ columns: [{ name: 'x' }] })!.columns[0]!.masked?.strategy, 'redact');
  // A table source from RowDescription is exact.
  assert.equal(engine.planMasking({ columns: [{ name: 'x', source: 'public.orders.note', sourceIsTable: true }] })!.columns[0]!.masked, undefined);
});

test('binary format: text-like masked in place, jsonb keeps its version byte, other types nulled', () => {
  const plan = engine.planMasking({
    columns: [
      { name: 'a', typeOid: 25, format: 1, source: 'public.customers.ssn', sourceIsTable: true },
      { name: 'b', typeOid: 3802, format: 1, source: 'public.customers.ssn', sourceIsTable: true },
      { name: 'c', typeOid: 23, format: 1, source: 'public.customers.ssn', sourceIsTable: true },
    ],
    profiles: ['agents'],
  })!;
  const jsonb = Buffer.concat([Buffer.from([1]), Buffer.from('"123-45-6789"')]);
  const int4 = Buffer.alloc(4);
  int4.writeInt32BE(123456789);
  const row = dataRow(['123-45-6789', jsonb.toString('latin1'), int4.toString('latin1')]);
  // Rebuild with raw bytes (dataRow writes utf8 strings).
  const raw = Buffer.concat([row.subarray(0, 7), lenPrefixed(Buffer.from('123-45-6789')), lenPrefixed(jsonb), lenPrefixed(int4)]);
  raw.writeInt32BE(raw.length - 1, 1);
  const out = plan.maskDataRow(raw, 0, raw.length)!;
  const vals = readRowRaw(out);
  assert.equal(vals[0]!.toString(), '****');
  assert.equal(vals[1]![0], 1);
  assert.equal(vals[1]!.subarray(1).toString(), '"****"');
  assert.equal(vals[2], null);
});

function lenPrefixed(b: Buffer): Buffer {
  const h = Buffer.alloc(4);
  h.writeInt32BE(b.length);
  return Buffer.concat([h, b]);
}

function readRowRaw(b: Buffer): (Buffer | null)[] {
  const n = b.readInt16BE(5);
  const out: (Buffer | null)[] = [];
  let p = 7;
  for (let i = 0; i < n; i++) {
    const len = b.readInt32BE(p);
    p += 4;
    out.push(len < 0 ? null : b.subarray(p, p + len));
    p += Math.max(len, 0);
  }
  return out;
}

test('text-format JSON stays valid JSON when masked', () => {
  const plan = engine.planMasking({ columns: [{ name: 'j', typeOid: 3802, format: 0 }, { name: 'k', typeOid: 114, format: 0, source: 'public.customers.ssn', sourceIsTable: true }], lineage: undefined, profiles: ['agents'] })!;
  const row = dataRow(['{"card": 4111111111111111, "mail": "a@example.com"}', '"123-45-6789"']);
  const [j, k] = readRow(plan.maskDataRow(row, 0, row.length)!);
  assert.doesNotThrow(() => JSON.parse(j!));
  assert.ok(!j!.includes('4111111111111111') && !j!.includes('a@example.com'));
  assert.equal(JSON.parse(k!), '****');
});

test('malformed and fuzzed DataRows never throw and never pass unread bytes', () => {
  const plan = engine.planMasking({ ...cols('SELECT id, ssn, email, name FROM customers') })!;
  const good = dataRow(['1', '123-45-6789', 'a@example.com', 'Alice']);
  let seed = 42;
  const rnd = () => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff), seed);
  for (let i = 0; i < 5000; i++) {
    const b = Buffer.from(good);
    const flips = 1 + (rnd() % 4);
    for (let f = 0; f < flips; f++) b[rnd() % b.length] = rnd() & 0xff;
    const cut = rnd() % 3 === 0 ? rnd() % b.length : b.length;
    let out: Buffer | null = null;
    assert.doesNotThrow(() => {
      out = plan.maskDataRow(b, 0, cut);
    });
    const o = out as Buffer | null;
    if (o !== null) assert.equal(o.readInt32BE(1), o.length - 1);
  }
  const wrongCount = dataRow(['1', '123-45-6789']);
  assert.deepEqual(readRow(plan.maskDataRow(wrongCount, 0, wrongCount.length)!), [null, null, null, null]);
});

test('COPY TO STDOUT text and CSV lines are masked per column', () => {
  const q = cols('COPY (SELECT id, ssn, email FROM customers) TO STDOUT');
  const plan = engine.planMasking({ ...q, profiles: ['agents'] })!;
  const frame = (s: string) => {
    const b = Buffer.from(s);
    const f = Buffer.alloc(5 + b.length);
    f[0] = 0x64;
    f.writeInt32BE(4 + b.length, 1);
    b.copy(f, 5);
    return f;
  };
  const t = frame('1\t123-45-6789\tA\\tB@example.com\n');
  assert.equal(plan.maskCopyData(t, 0, t.length, TEXT_COPY)!.subarray(5).toString(), '1\t****\t****\n');
  const [stmt] = [{ CopyStmt: { options: [{ DefElem: { defname: 'format', arg: { String: { sval: 'csv' } } } }] } }];
  const csv = copyFormatOf(stmt);
  const c = frame('1,"123-45-6789","x,y@example.com"\n');
  assert.equal(plan.maskCopyData(c, 0, c.length, csv)!.subarray(5).toString(), '1,"****","****"\n');
  const n = frame('1\t\\N\t\\N\n');
  assert.equal(plan.maskCopyData(n, 0, n.length, TEXT_COPY), null);
});

test('error and notice texts: key values, failing rows, cast errors, detectors', () => {
  const ctx = engine.errorContext({ lineage: sqlLineage('INSERT INTO customers (email) VALUES ($1)', catalog)[0], profiles: ['agents'] });
  const dup = engine.maskErrorMessage({ severity: 'ERROR', code: '23505', message: 'duplicate key value violates unique constraint "customers_email_key"', detail: 'Key (email)=(alice@example.com) already exists.', other: new Map([[0x73, 'public'], [0x74, 'customers']]) }, ctx)!;
  assert.equal(dup.detail, 'Key (email)=(****) already exists.');
  const cast = engine.maskErrorMessage({ severity: 'ERROR', code: '22P02', message: 'invalid input syntax for type integer: "Alice Smith"' }, engine.errorContext({ lineage: sqlLineage('SELECT name::int FROM customers', catalog)[0] }))!;
  assert.equal(cast.message, 'invalid input syntax for type integer: "****"');
  const row = engine.maskErrorMessage({ severity: 'ERROR', code: '23502', message: 'null value in column "name" violates not-null constraint', detail: 'Failing row contains (7, null, bob@x.io, 123-45-6789).', other: new Map([[0x73, 'public'], [0x74, 'customers']]) }, engine.errorContext({}))!;
  assert.equal(row.detail, 'Failing row contains (****).');
  const notice = engine.maskErrorMessage({ severity: 'NOTICE', code: '00000', message: 'card 4111 1111 1111 1111 for carol@example.com' })!;
  assert.equal(notice.message, 'card **** for ****');
  assert.equal(engine.maskErrorMessage({ severity: 'ERROR', code: '42P01', message: 'relation "nope" does not exist' }), null);
});

test('maskText and maskValue serve the JSON frontends', () => {
  assert.equal(engine.maskText('reach me at bob@example.com'), 'reach me at ****');
  assert.equal(engine.maskText('123-45-6789', { strategy: 'partial', keepLast: 4 }), '***-**-6789');
  const plan = engine.planMasking(cols('SELECT ssn, name FROM customers'))!;
  assert.equal(plan.maskValue(0, '123-45-6789'), '***-**-6789');
  assert.equal(plan.maskValue(1, 'Alice'), 'Alice');
  assert.equal(plan.maskValue(0, null), null);
});

test('cost per masked row, 3 masked columns (redact, partial, hash)', () => {
  const bench = createMaskingEngine(maskingSchema.parse({ hash_key: 'k', columns: [{ match: 'public.customers.ssn', strategy: 'partial', keep_last: 4 }, { match: 'public.customers.email', strategy: 'hash' }, { match: 'public.customers.name', strategy: 'redact' }] }));
  const plan = bench.planMasking(cols('SELECT id, name, email, ssn FROM customers'))!;
  const rows = Array.from({ length: 1000 }, (_, i) => dataRow([String(i), `Customer ${i}`, `user${i}@example.com`, `123-45-${String(1000 + i).slice(-4)}`]));
  const run = (n: number) => {
    for (let i = 0; i < n; i++) {
      const r = rows[i % rows.length]!;
      plan.maskDataRow(r, 0, r.length);
    }
  };
  run(20000);
  const n = 100000;
  const t0 = process.hrtime.bigint();
  run(n);
  const us = Number(process.hrtime.bigint() - t0) / 1000 / n;
  const withDetectors = createMaskingEngine(maskingSchema.parse({ ...config, hash_key: 'k', detectors: ['card', 'ssn', 'email', 'phone', 'iban', 'ip', 'aws_key', 'private_key', 'jwt', 'api_token'] }));
  const p2 = withDetectors.planMasking(cols('SELECT id, name, email, ssn FROM customers'))!;
  const t1 = process.hrtime.bigint();
  for (let i = 0; i < n; i++) {
    const r = rows[i % rows.length]!;
    p2.maskDataRow(r, 0, r.length);
  }
  const us2 = Number(process.hrtime.bigint() - t1) / 1000 / n;
  console.log(`masking cost: ${us.toFixed(2)} µs/row (3 masked columns: partial, hash, redact); ${us2.toFixed(2)} µs/row with all detectors on the unmasked columns`);
  assert.ok(us < 50, `${us} µs per row`);
});

test('a column shown in the clear to a group is not rescanned by detectors for that group', async () => {
  const { createMaskingEngine, maskingSchema } = await import('../../src/masking/index.js');
  const e = createMaskingEngine(
    maskingSchema.parse({
      detectors: ['ssn', 'email'],
      columns: [{ match: 'public.customers.ssn', strategy: 'partial', keep_last: 4, groups: { dba: { strategy: 'clear' } } }],
    }),
  );
  const cols = [{ name: 'ssn', source: 'public.customers.ssn', sourceIsTable: true }];
  const dba = e.planMasking({ columns: cols, groups: ['dba'] });
  assert.equal(dba?.maskValue(0, '123-45-6789') ?? '123-45-6789', '123-45-6789');
  const other = e.planMasking({ columns: cols, groups: ['analysts'] });
  assert.equal(other?.maskValue(0, '123-45-6789'), '***-**-6789');
});
