/**
 * How many leading rows fit in `maxBytes` of JSON. A model's context is the scarce resource,
 * so a tool result is cut by size as well as by row count, and the cut is stated.
 */
export function rowsWithinBytes(rows: readonly (readonly (string | null)[])[], maxBytes: number): number {
  let used = 2; // []
  for (let i = 0; i < rows.length; i++) {
    used += Buffer.byteLength(JSON.stringify(rows[i])) + (i > 0 ? 1 : 0);
    if (used > maxBytes) return i;
  }
  return rows.length;
}
