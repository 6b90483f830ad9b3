import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { gzipSync } from 'node:zlib';
import { encodeRowsetValue, decodeRowsetValue, SnowflakeValueError } from '../../src/codecs/snowflake/values.js';
import { rowTypeFromPg } from '../../src/codecs/snowflake/rowtype-from-pg.js';
import { bindingsToParamRows, bindingsToParams, SnowflakeBindingError } from '../../src/codecs/snowflake/bindings.js';
import { decodeRequestBody } from '../../src/codecs/snowflake/request-body.js';
import { parseSnowflakeToken, snowflakeTokenHeader } from '../../src/codecs/snowflake/auth-header.js';
import { errorEnvelope, LoginRequestSchema, QueryRequestSchema } from '../../src/codecs/snowflake/messages.js';
import { daysFromCivil, civilFromDays } from '../../src/codecs/snowflake/civil-time.js';
import type { SnowflakeColumnType } from '../../src/codecs/snowflake/rowtype.js';

const col = (type: string, extra: Partial<SnowflakeColumnType> = {}): SnowflakeColumnType => ({ name: 'C', type, nullable: true, ...extra });

/** [column, canonical text, rowset text] */
const CASES: [SnowflakeColumnType, string, string][] = [
  [col('fixed', { precision: 10, scale: 2 }), '-12.50', '-12.50'],
  [col('fixed', { precision: 38, scale: 0 }), '99999999999999999999999999999999999999', '99999999999999999999999999999999999999'],
  [col('real'), '1.5', '1.5'],
  [col('real'), 'NaN', 'NaN'],
  [col('real'), 'inf', 'Infinity'],
  [col('real'), '-inf', '-Infinity'],
  [col('text'), "it's \"quoted\" ünïcode", "it's \"quoted\" ünïcode"],
  [col('boolean'), 'true', '1'],
  [col('boolean'), 'false', '0'],
  [col('date'), '1970-01-01', '0'],
  [col('date'), '1969-12-31', '-1'],
  [col('date'), '0001-01-01', '-719162'],
  [col('date'), '9999-12-31', '2932896'],
  [col('date'), '2000-02-29', '11016'],
  [col('time', { scale: 9 }), '00:00:00', '0.000000000'],
  [col('time', { scale: 9 }), '12:34:56.123456789', '45296.123456789'],
  [col('time', { scale: 3 }), '23:59:59.999', '86399.999'],
  [col('time', { scale: 0 }), '01:02:03', '3723'],
  [col('timestamp_ntz', { scale: 9 }), '1970-01-01 00:00:00', '0.000000000'],
  [col('timestamp_ntz', { scale: 9 }), '1969-12-31 23:59:59.5', '-0.500000000'],
  [col('timestamp_ntz', { scale: 9 }), '2024-02-29 13:14:15.000000001', '1709212455.000000001'],
  [col('timestamp_ntz', { scale: 6 }), '0001-01-01 00:00:00', '-62135596800.000000'],
  [col('timestamp_ntz', { scale: 9 }), '9999-12-31 23:59:59.999999999', '253402300799.999999999'],
  [col('timestamp_ltz', { scale: 9 }), '2020-01-01 00:00:00+00:00', '1577836800.000000000'],
  [col('timestamp_ltz', { scale: 3 }), '1969-12-31 23:59:59.001+00:00', '-0.999'],
  [col('timestamp_tz', { scale: 9 }), '2020-01-01 05:30:00+05:30', '1577836800.000000000 1770'],
  [col('timestamp_tz', { scale: 9 }), '1969-12-31 16:00:00.25-08:00', '0.250000000 960'],
  [col('timestamp_tz', { scale: 0 }), '2020-06-01 00:00:00+00:00', '1590969600 1440'],
  [col('variant'), '{"a":[1,2,{"b":null}]}', '{"a":[1,2,{"b":null}]}'],
  [col('object'), '{}', '{}'],
  [col('array'), '[1,"x"]', '[1,"x"]'],
  [col('binary'), '', ''],
  [col('binary'), '00ff10ab', '00FF10AB'],
];

test('every type round-trips between canonical text and the rowset form', () => {
  for (const [c, text, raw] of CASES) {
    assert.equal(encodeRowsetValue(text, c), raw, `encode ${c.type} ${text}`);
    assert.equal(decodeRowsetValue(raw, c), text, `decode ${c.type} ${raw}`);
  }
  for (const [c] of CASES) {
    assert.equal(encodeRowsetValue(null, c), null);
    assert.equal(decodeRowsetValue(null, c), null);
  }
});

test('lenient inputs normalise: PostgreSQL booleans, offsets, bytea, short fixed scale, Snowflake inf', () => {
  assert.equal(encodeRowsetValue('t', col('boolean')), '1');
  assert.equal(encodeRowsetValue('f', col('boolean')), '0');
  assert.equal(decodeRowsetValue('TRUE', col('boolean')), 'true');
  assert.equal(encodeRowsetValue('2020-01-01 05:00:00+05', col('timestamp_ltz', { scale: 0 })), '1577836800');
  assert.equal(encodeRowsetValue('2020-01-01T00:00:00Z', col('timestamp_ltz', { scale: 0 })), '1577836800');
  assert.equal(encodeRowsetValue('\\xdeadbeef', col('binary')), 'DEADBEEF');
  assert.equal(encodeRowsetValue('7', col('fixed', { scale: 2 })), '7.00');
  assert.equal(encodeRowsetValue('7.5', col('fixed', { scale: 3 })), '7.500');
  assert.equal(decodeRowsetValue('inf', col('real')), 'inf');
  assert.equal(decodeRowsetValue('-inf', col('real')), '-inf');
  // Fractions beyond the column's scale are truncated toward minus infinity, never rounded up a second.
  assert.equal(encodeRowsetValue('1969-12-31 23:59:59.9999', col('timestamp_ntz', { scale: 3 })), '-0.001');
  assert.equal(encodeRowsetValue('12:00:00.123456789', col('time', { scale: 6 })), '43200.123456');
});

test('malformed values are refused with SnowflakeValueError, never passed on', () => {
  const bad: [SnowflakeColumnType, string][] = [
    [col('fixed'), '1e5'],
    [col('fixed'), 'NaN'],
    [col('real'), 'one'],
    [col('boolean'), 'yes'],
    [col('date'), '2023-02-29'],
    [col('date'), '2023-13-01'],
    [col('time'), '24:00:00'],
    [col('time'), '12:00'],
    [col('timestamp_ntz'), '2020-01-01 00:00:00+01:00'],
    [col('timestamp_ltz'), '2020-01-01 00:00:00 Europe/Paris'],
    [col('binary'), 'abc'],
    [col('binary'), 'zz'],
  ];
  for (const [c, v] of bad) assert.throws(() => encodeRowsetValue(v, c), SnowflakeValueError, `encode ${c.type} ${v}`);
  const badRaw: [SnowflakeColumnType, string][] = [
    [col('date'), '1.5'],
    [col('time', { scale: 9 }), '86400'],
    [col('timestamp_tz', { scale: 9 }), '0.0'],
    [col('timestamp_tz', { scale: 9 }), '0.0 2881'],
    [col('timestamp_ntz', { scale: 9 }), '1e9'],
    [col('fixed'), 'abc'],
  ];
  for (const [c, v] of badRaw) assert.throws(() => decodeRowsetValue(v, c), SnowflakeValueError, `decode ${c.type} ${v}`);
});

test('the civil calendar agrees with Date over four centuries and the proleptic extremes', () => {
  for (let d = -146_097 * 2; d <= 146_097 * 2; d += 97) {
    const iso = new Date(d * 86_400_000).toISOString().slice(0, 10);
    const { year, month, day } = civilFromDays(d);
    assert.equal(`${String(year).padStart(4, '0')}-${String(month).padStart(2, '0')}-${String(day).padStart(2, '0')}`, iso);
    assert.equal(daysFromCivil(year, month, day), d);
  }
});

test("snowflake-sdk's own column decoder reads the encoded values as the canonical text means", () => {
  process.env.SNOWFLAKE_DISABLE_PLATFORM_DETECTION = 'true';
  const require = createRequire(import.meta.url);
  const Column = require('snowflake-sdk/dist/lib/connection/result/column.js') as new (o: object) => { _getRowValue(row: object): unknown };
  const params = { TIMEZONE: 'UTC', BINARY_OUTPUT_FORMAT: 'HEX', DATE_OUTPUT_FORMAT: 'YYYY-MM-DD', TIME_OUTPUT_FORMAT: 'HH24:MI:SS.FF9' };
  const read = (c: SnowflakeColumnType, raw: string) => {
    const column = new Column({ columnMetadata: c, index: 0, statementParameters: params, resultVersion: '1', onPrecisionLoss() {}, onNonJsonCompliantVariant() {} });
    return column._getRowValue({ values: [raw], _arrayProcessedColumns: [] });
  };
  const enc = (text: string, c: SnowflakeColumnType) => encodeRowsetValue(text, c)!;
  assert.equal(read(col('fixed', { scale: 2 }), enc('-12.50', col('fixed', { scale: 2 }))), -12.5);
  assert.equal(read(col('real'), enc('inf', col('real'))), Infinity);
  assert.equal(read(col('real'), enc('-inf', col('real'))), -Infinity);
  assert.ok(Number.isNaN(read(col('real'), enc('NaN', col('real')))));
  assert.equal(read(col('boolean'), enc('true', col('boolean'))), true);
  assert.equal(read(col('boolean'), enc('false', col('boolean'))), false);
  assert.equal((read(col('date'), enc('1969-12-31', col('date'))) as Date).toISOString(), '1969-12-31T00:00:00.000Z');
  assert.equal((read(col('date'), enc('0001-01-01', col('date'))) as Date).toISOString(), '0001-01-01T00:00:00.000Z');
  const ntz = col('timestamp_ntz', { scale: 9 });
  assert.equal((read(ntz, enc('1969-12-31 23:59:59.5', ntz)) as Date).toISOString(), '1969-12-31T23:59:59.500Z');
  const ltz = col('timestamp_ltz', { scale: 6 });
  assert.equal((read(ltz, enc('2020-01-01 05:00:00+05:00', ltz)) as Date).toISOString(), '2020-01-01T00:00:00.000Z');
  const tz = col('timestamp_tz', { scale: 9 });
  const tzValue = read(tz, enc('2020-01-01 05:30:00.125+05:30', tz)) as Date & { getTimezone(): unknown };
  assert.equal(tzValue.toISOString(), '2020-01-01T00:00:00.125Z');
  const time = col('time', { scale: 9 });
  assert.equal(read(time, enc('12:34:56.123456789', time)), '12:34:56.123456789');
  assert.deepEqual([...(read(col('binary'), enc('00ff', col('binary'))) as Buffer)], [0, 255]);
  assert.deepEqual(read(col('variant'), enc('{"a":[1]}', col('variant'))), { a: [1] });
});

test('PostgreSQL columns map to Snowflake row types', () => {
  const t = (typeOid: number, typeModifier?: number) => rowTypeFromPg({ name: 'x', typeOid, typeModifier });
  assert.deepEqual([t(21).type, t(23).type, t(20).type], ['fixed', 'fixed', 'fixed']);
  assert.equal(t(20).scale, 0);
  assert.deepEqual({ ...t(1700, ((10 << 16) | 2) + 4) }, { name: 'x', type: 'fixed', precision: 10, scale: 2, nullable: true });
  assert.equal(t(1700).type, 'text', 'numeric without a declared scale is text');
  assert.deepEqual([t(700).type, t(701).type, t(16).type, t(1082).type, t(1083).type], ['real', 'real', 'boolean', 'date', 'time']);
  assert.deepEqual([t(1114).type, t(1184).type, t(114).type, t(3802).type, t(17).type], ['timestamp_ntz', 'timestamp_ltz', 'variant', 'variant', 'binary']);
  assert.deepEqual([t(25).type, t(1043, 14).length, t(1042, 6).length, t(19).type, t(2950).type, t(999_999).type], ['text', 10, 2, 'text', 'text', 'text']);
  assert.equal(encodeRowsetValue('\\x0102', t(17)), '0102');
});

test('bindings become positional parameter rows; malformed ones are refused by position', () => {
  assert.deepEqual(bindingsToParams(undefined), []);
  assert.deepEqual(
    bindingsToParams({ '2': { type: 'TEXT', value: 'b' }, '1': { type: 'FIXED', value: '1' }, '3': { type: 'BOOLEAN', value: null } }),
    ['1', 'b', null],
  );
  assert.deepEqual(bindingsToParamRows({ '1': { type: 'FIXED', value: ['1', '2'] }, '2': { type: 'TEXT', value: ['a', null] } }), [
    ['1', 'a'],
    ['2', null],
  ]);
  // Other drivers' epoch-unit temporal binds become canonical text.
  assert.deepEqual(
    bindingsToParams({
      '1': { type: 'DATE', value: '-86400000' },
      '2': { type: 'TIMESTAMP_NTZ', value: '1500000000' },
      '3': { type: 'TIME', value: '3723000000000' },
      '4': { type: 'TIMESTAMP_TZ', value: '0 1500' },
      '5': { type: 'BINARY', value: 'ABCD' },
      '6': { type: 'TIMESTAMP_LTZ', value: '2020-01-01T00:00:00.000Z' },
    }),
    ['1969-12-31', '1970-01-01 00:00:01.5', '01:02:03', '1970-01-01 01:00:00+01:00', 'abcd', '2020-01-01T00:00:00.000Z'],
  );
  const bad: unknown[] = [
    { '0': { type: 'TEXT', value: 'a' } },
    { '1': { type: 'TEXT', value: 'a' }, '3': { type: 'TEXT', value: 'b' } },
    { x: { type: 'TEXT', value: 'a' } },
    { '1': { type: 'TEXT', value: ['a'] }, '2': { type: 'TEXT', value: 'b' } },
    { '1': { type: 'TEXT', value: ['a'] }, '2': { type: 'TEXT', value: ['b', 'c'] } },
    { '1': { type: 'BINARY', value: 'xyz' } },
  ];
  for (const b of bad) assert.throws(() => bindingsToParamRows(b as never), SnowflakeBindingError);
  // The schema rejects what is not a binding at all before this point.
  assert.equal(QueryRequestSchema.safeParse({ sqlText: 'select 1', bindings: { '1': { type: 'TEXT', value: { a: 1 } } } }).success, false);
  assert.equal(QueryRequestSchema.safeParse({ sqlText: 'select 1', bindings: { '1': 'x' } }).success, false);
});

test('request bodies: plain and gzip JSON decode; a gzip bomb, oversized and malformed bodies are refused cleanly', () => {
  assert.deepEqual(decodeRequestBody(Buffer.from('{"a":1}'), 1024), { ok: true, value: { a: 1 } });
  assert.deepEqual(decodeRequestBody(gzipSync('{"a":1}'), 1024), { ok: true, value: { a: 1 } });
  const bomb = gzipSync(Buffer.alloc(64 << 20, 0x20));
  assert.ok(bomb.length < 1 << 20, 'the bomb is small on the wire');
  assert.deepEqual(decodeRequestBody(bomb, 1 << 20), { ok: false, problem: 'too_large' });
  assert.deepEqual(decodeRequestBody(Buffer.alloc(2048, 0x20), 1024), { ok: false, problem: 'too_large' });
  assert.deepEqual(decodeRequestBody(Buffer.from([0x1f, 0x8b, 1, 2, 3]), 1024), { ok: false, problem: 'bad_gzip' });
  assert.deepEqual(decodeRequestBody(Buffer.from('{"a":'), 1024), { ok: false, problem: 'bad_json' });
  assert.deepEqual(decodeRequestBody(gzipSync('not json'), 1024), { ok: false, problem: 'bad_json' });
});

test('Authorization header: Snowflake Token="…" only', () => {
  assert.equal(parseSnowflakeToken('Snowflake Token="abc:1-2"'), 'abc:1-2');
  assert.equal(parseSnowflakeToken(snowflakeTokenHeader('t0k')), 't0k');
  for (const h of [undefined, '', 'Bearer abc', 'Snowflake Token=abc', 'Snowflake Token=""', `Snowflake Token="${'a'.repeat(9000)}"`]) {
    assert.equal(parseSnowflakeToken(h), null, String(h).slice(0, 30));
  }
  assert.throws(() => snowflakeTokenHeader('a"b'), TypeError);
});

test('message schemas accept driver bodies with extra fields and build error envelopes', () => {
  const login = LoginRequestSchema.safeParse({ data: { LOGIN_NAME: 'u', PASSWORD: 'p', CLIENT_APP_ID: 'JavaScript', EXTRA: { x: 1 } } });
  assert.ok(login.success);
  assert.equal(LoginRequestSchema.safeParse({ data: { LOGIN_NAME: 5 } }).success, false);
  assert.equal(LoginRequestSchema.safeParse('nope').success, false);
  const q = QueryRequestSchema.safeParse({ sqlText: 'select 1', asyncExec: true, parameters: { QUERY_TAG: 't' }, queryContextDTO: { entries: [] } });
  assert.ok(q.success);
  assert.deepEqual(errorEnvelope('002003', 'gone', { sqlState: '42S02', queryId: 'q' }), {
    data: { internalError: false, sqlState: '42S02', queryId: 'q', errorCode: '002003' },
    code: '002003',
    message: 'gone',
    success: false,
  });
});
