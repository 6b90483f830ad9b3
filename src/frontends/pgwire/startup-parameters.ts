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
