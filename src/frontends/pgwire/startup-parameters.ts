/**
 * Which of the client's startup parameters reach the upstream. Only presentation settings pass:
 * anything that changes what the server would do (`options`, `search_path`, role settings…)
 * must come as SQL, where the analyzer sees it.
 */
const FORWARDABLE = new Set(['client_encoding', 'DateStyle', 'TimeZone', 'IntervalStyle', 'extra_float_digits', 'lc_monetary', 'lc_numeric', 'lc_time', 'bytea_output']);

export function forwardableParameters(params: ReadonlyMap<string, string>): Map<string, string> {
  const out = new Map<string, string>();
  for (const [k, v] of params) if (FORWARDABLE.has(k)) out.set(k, v);
  return out;
}

/**
 * Client encodings whose bytes the server splits into tokens exactly as the analyzer's UTF-8
 * reading does. In SJIS, BIG5, GBK, GB18030, UHC and JOHAB a multi-byte character may end in
 * 0x5C (backslash) or other ASCII bytes, so a quote the analyzer sees inside a literal closes it
 * for the server — a statement hidden in what was analyzed as a string. Only UTF-8 (and
 * SQL_ASCII, which the server reads as its own encoding, unconverted) is accepted.
 */
const SAFE_CLIENT_ENCODINGS = new Set(['utf8', 'unicode', 'sqlascii']);

/** PostgreSQL's own normalization of encoding names: case and punctuation do not matter. */
export function clientEncodingAccepted(value: string): boolean {
  return SAFE_CLIENT_ENCODINGS.has(value.toLowerCase().replace(/[^a-z0-9]/g, ''));
}
