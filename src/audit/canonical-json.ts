/**
 * Canonical JSON for hashing: object keys sorted by code unit, no whitespace, `undefined`
 * members dropped (as JSON.stringify does). Two writers that build the same event in a
 * different key order produce the same bytes, so the hash depends only on the content.
 */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') {
    if (typeof value === 'number' && !Number.isFinite(value)) throw new TypeError('canonicalJson: numbers must be finite');
    return JSON.stringify(value) ?? 'null';
  }
  if (Array.isArray(value)) {
    let out = '[';
    for (let i = 0; i < value.length; i++) {
      if (i > 0) out += ',';
      const v: unknown = value[i];
      out += v === undefined ? 'null' : canonicalJson(v);
    }
    return `${out}]`;
  }
  const obj = value as Record<string, unknown>;
  const keys = Object.keys(obj).sort();
  let out = '{';
  let first = true;
  for (const k of keys) {
    const v = obj[k];
    if (v === undefined) continue;
    if (!first) out += ',';
    first = false;
    out += `${JSON.stringify(k)}:${canonicalJson(v)}`;
  }
  return `${out}}`;
}

/** True when every object in `value` already lists its keys in canonical (sorted) order. */
function inCanonicalOrder(value: unknown): boolean {
  if (value === null || typeof value !== 'object') return true;
  if (Array.isArray(value)) {
    for (const v of value) if (typeof v === 'object' && v !== null && !inCanonicalOrder(v)) return false;
    return true;
  }
  let prev = '';
  for (const k in value as Record<string, unknown>) {
    if (k < prev) return false;
    prev = k;
    const v = (value as Record<string, unknown>)[k];
    if (typeof v === 'object' && v !== null && !inCanonicalOrder(v)) return false;
  }
  return true;
}

/**
 * The same bytes as `canonicalJson`, fast when the value was built in sorted key order (the
 * recorder builds every event that way): checking the order is far cheaper than re-sorting.
 */
export function fastCanonicalJson(value: unknown): string {
  return inCanonicalOrder(value) ? JSON.stringify(value) : canonicalJson(value);
}
