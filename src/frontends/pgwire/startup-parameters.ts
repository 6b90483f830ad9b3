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

/** PostgreSQL keeps 63 bytes of application_name and shows only printable ASCII. */
export function applicationNameFor(subject: string, clientApp: string | undefined): string {
  const ascii = (s: string) => s.replace(/[^\x20-\x7e]/g, '?');
  let name = `portcullis:${ascii(subject)}`;
  if (clientApp) name += `/${ascii(clientApp)}`;
  return Buffer.byteLength(name) > 63 ? name.slice(0, 63) : name;
}
