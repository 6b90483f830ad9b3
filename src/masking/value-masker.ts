import type { StrategyApplier, MaskSpec } from './strategy.js';
import { partialBytes } from './strategy.js';
import type { TextScanner } from './text-scanner.js';
import { ValueClass, binaryZero, isNumeric, textZero, valueClass } from './pg-types.js';
import { Oid } from '../codecs/pgwire/type-oids.js';

/**
 * Masks one column's values, as bytes (DataRow, binary COPY) or as strings (text COPY, JSON
 * frontends). Result convention for both: `undefined` unchanged, `null` SQL NULL, else the
 * replacement.
 */
export type BytesMasker = (buf: Buffer, start: number, length: number) => Buffer | null | undefined;
export type StringMasker = (value: string) => string | null | undefined;

export interface ColumnType {
  readonly typeOid: number;
  /** 0 text, 1 binary. */
  readonly format: number;
}

export interface MaskerContext {
  readonly apply: StrategyApplier;
  readonly scanner: TextScanner;
  readonly nonText: 'null' | 'zero';
}

const JSON_REDACTED = '"****"';

/** What a masked value of a non-text type becomes: NULL, or the type's zero if configured and defined. */
function typedStandIn(ctx: MaskerContext, t: ColumnType): string | null {
  return ctx.nonText === 'zero' ? (textZero(t.typeOid) ?? null) : null;
}

/** A column a rule masks: every non-NULL value gets the spec. */
export function ruleStringMasker(ctx: MaskerContext, t: ColumnType, spec: MaskSpec): StringMasker {
  const cls = valueClass(t.typeOid, 0);
  if (spec.strategy === 'null') return () => null;
  if (cls === ValueClass.Text) return (v) => ctx.apply.apply(spec, v);
  if (cls === ValueClass.Json || cls === ValueClass.Jsonb) {
    return (v) => {
      const m = ctx.apply.apply(spec, v);
      return m === null ? null : JSON.stringify(m);
    };
  }
  // A number faked digit for digit still parses as a number; other strategies have no valid
  // text for an integer, a date or an array, so the value becomes NULL (or its zero).
  if (spec.strategy === 'fake' && isNumeric(t.typeOid)) return (v) => ctx.apply.apply(spec, v);
  const standIn = typedStandIn(ctx, t);
  return () => standIn;
}

/** A column no rule masks, when detectors are on: hits are replaced inside the value. */
export function detectStringMasker(ctx: MaskerContext, t: ColumnType): StringMasker | undefined {
  if (!ctx.scanner.active) return undefined;
  const cls = valueClass(t.typeOid, 0);
  if (cls === ValueClass.Opaque) return undefined;
  if (cls === ValueClass.Text) return (v) => ctx.scanner.scan(v);
  if (cls === ValueClass.Json || cls === ValueClass.Jsonb) {
    return (v) => {
      const m = ctx.scanner.scan(v);
      if (m === undefined || m === null) return m;
      // A hit inside a JSON number or spanning a quote would leave invalid JSON the client cannot parse.
      try {
        JSON.parse(m);
        return m;
      } catch {
        return JSON_REDACTED;
      }
    };
  }
  const standIn = typedStandIn(ctx, t);
  return (v) => (ctx.scanner.scan(v) === undefined ? undefined : standIn);
}

const utf8 = (s: string | null | undefined): Buffer | null | undefined => (s === undefined || s === null ? s : Buffer.from(s, 'utf8'));

/** Bytes form of a string masker, for text-format values and binary text-like ones. */
function viaString(m: StringMasker, prefix: number): BytesMasker {
  return (buf, start, length) => {
    if (length < prefix) return null;
    const out = m(buf.toString('utf8', start + prefix, start + length));
    if (out === undefined || out === null || prefix === 0) return utf8(out);
    const b = Buffer.allocUnsafe(prefix + Buffer.byteLength(out));
    buf.copy(b, 0, start, start + prefix);
    b.write(out, prefix, 'utf8');
    return b;
  };
}

/** Binary values of types that are not text: NULL, or their zero when configured. */
function binaryStandIn(ctx: MaskerContext, t: ColumnType): BytesMasker {
  if (ctx.nonText === 'null') return () => null;
  return (_buf, _start, length) => binaryZero(t.typeOid, length) ?? null;
}

export function ruleBytesMasker(ctx: MaskerContext, t: ColumnType, spec: MaskSpec): BytesMasker {
  if (spec.strategy === 'null') return () => null;
  if (t.format === 0) {
    if (spec.strategy === 'redact' && valueClass(t.typeOid, 0) === ValueClass.Text) {
      // The hot path: the same replacement bytes every time.
      const fixed = Buffer.from(spec.replacement ?? '****', 'utf8');
      return () => fixed;
    }
    if (spec.strategy === 'partial' && valueClass(t.typeOid, 0) === ValueClass.Text) {
      const slow = viaString(ruleStringMasker(ctx, t, spec), 0);
      return (buf, start, length) => partialBytes(buf, start, length, spec.keepFirst, spec.keepLast) ?? slow(buf, start, length);
    }
    return viaString(ruleStringMasker(ctx, t, spec), 0);
  }
  const cls = valueClass(t.typeOid, 1);
  if (cls === ValueClass.Text || cls === ValueClass.Json) return viaString(ruleStringMasker(ctx, { typeOid: t.typeOid, format: 0 }, spec), 0);
  // jsonb binary: a version byte (1), then the JSON text.
  if (cls === ValueClass.Jsonb) return viaString(ruleStringMasker(ctx, { typeOid: Oid.Json, format: 0 }, spec), 1);
  return binaryStandIn(ctx, t);
}

export function detectBytesMasker(ctx: MaskerContext, t: ColumnType): BytesMasker | undefined {
  if (!ctx.scanner.active) return undefined;
  if (t.format === 0) {
    const m = detectStringMasker(ctx, t);
    return m && viaString(m, 0);
  }
  const cls = valueClass(t.typeOid, 1);
  if (cls === ValueClass.Text || cls === ValueClass.Json) return viaString(detectStringMasker(ctx, { typeOid: t.typeOid, format: 0 })!, 0);
  if (cls === ValueClass.Jsonb) return viaString(detectStringMasker(ctx, { typeOid: Oid.Json, format: 0 })!, 1);
  if (t.typeOid === Oid.Int8) {
    // A card number or phone number stored as bigint is still one.
    const standIn = binaryStandIn(ctx, t);
    return (buf, start, length) => {
      if (length !== 8) return undefined;
      return ctx.scanner.scan(buf.readBigInt64BE(start).toString()) === undefined ? undefined : standIn(buf, start, length);
    };
  }
  if (cls === ValueClass.Opaque) return undefined;
  // Binary bytea, arrays, records, ranges, extension types: their text elements sit in the bytes
  // as they are (a text[] is length-prefixed UTF-8), so a hit anywhere replaces the whole value.
  const standIn = binaryStandIn(ctx, t);
  return (buf, start, length) => (ctx.scanner.scan(buf.toString('utf8', start, start + length)) === undefined ? undefined : standIn(buf, start, length));
}
