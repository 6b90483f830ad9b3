/** A parse-tree node body as libpg-query's JSON gives it: a plain object of fields. */
export type Obj = Record<string, unknown>;

export function isObj(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** A node list, or empty when the field is absent or not a list. */
export function asArray(v: unknown): unknown[] {
  return Array.isArray(v) ? v : [];
}

export function str(v: unknown): string | undefined {
  return typeof v === 'string' ? v : undefined;
}

/** The `sval` of a `{String: {sval}}` node. */
export function stringNode(v: unknown): string | undefined {
  if (!isObj(v)) return undefined;
  const s = v['String'];
  return isObj(s) ? str(s['sval']) : undefined;
}

/** A qualified name from a list of String nodes (`funcname`, DROP objects): `a.b`. */
export function dottedName(items: unknown): string | undefined {
  if (!Array.isArray(items) || items.length === 0) return undefined;
  let out = '';
  for (const it of items) {
    const s = stringNode(it);
    if (s === undefined) return undefined;
    out = out === '' ? s : `${out}.${s}`;
  }
  return out;
}

/** The DefElem bodies in a list such as `options` or `args`. */
export function defElems(list: unknown): Obj[] {
  const out: Obj[] = [];
  if (!Array.isArray(list)) return out;
  for (const it of list) if (isObj(it) && isObj(it['DefElem'])) out.push(it['DefElem']);
  return out;
}

/**
 * Whether a DefElem's argument says "off". The parser gives booleans in several shapes
 * (`A_Const {ival: {}}` is 0, `String 'false'`, `Boolean {}`); only an explicit off counts,
 * so anything unfamiliar reads as on — the cautious side for options like ANALYZE.
 */
export function isExplicitlyOff(arg: unknown): boolean {
  if (!isObj(arg)) return false;
  const c = arg['A_Const'];
  if (isObj(c)) {
    if (isObj(c['ival'])) return c['ival']['ival'] === undefined || c['ival']['ival'] === 0;
    if (isObj(c['boolval'])) return c['boolval']['boolval'] !== true;
    if (isObj(c['sval'])) return /^(off|false|no|0)$/i.test(str(c['sval']['sval']) ?? '');
    return false;
  }
  const b = arg['Boolean'];
  if (isObj(b)) return b['boolval'] !== true;
  const s = arg['String'];
  if (isObj(s)) return /^(off|false|no|0)$/i.test(str(s['sval']) ?? '');
  const i = arg['Integer'];
  if (isObj(i)) return i['ival'] === undefined || i['ival'] === 0;
  return false;
}

/** `OBJECT_MATVIEW` → `MATERIALIZED VIEW`, for command tags. */
export function objectTypeName(v: unknown): string {
  const s = str(v);
  if (s === undefined) return 'OBJECT';
  const bare = s.replace(/^OBJECT_/, '');
  switch (bare) {
    case 'MATVIEW':
      return 'MATERIALIZED VIEW';
    case 'FDW':
      return 'FOREIGN DATA WRAPPER';
    case 'TSCONFIGURATION':
      return 'TEXT SEARCH CONFIGURATION';
    case 'TSDICTIONARY':
      return 'TEXT SEARCH DICTIONARY';
    case 'TSPARSER':
      return 'TEXT SEARCH PARSER';
    case 'TSTEMPLATE':
      return 'TEXT SEARCH TEMPLATE';
    case 'OPCLASS':
      return 'OPERATOR CLASS';
    case 'OPFAMILY':
      return 'OPERATOR FAMILY';
    case 'ACCESS_METHOD':
      return 'ACCESS METHOD';
    default:
      return bare.replace(/_/g, ' ');
  }
}
