/**
 * The application_name the gateway gives its upstream sessions, so the database's own logs and
 * pg_stat_activity attribute every statement to the calling identity.
 */
/** PostgreSQL keeps 63 bytes of application_name and shows only printable ASCII. */
export function applicationNameFor(subject: string, clientApp: string | undefined): string {
  const ascii = (s: string) => s.replace(/[^\x20-\x7e]/g, '?');
  let name = `portcullis:${ascii(subject)}`;
  if (clientApp) name += `/${ascii(clientApp)}`;
  return Buffer.byteLength(name) > 63 ? name.slice(0, 63) : name;
}
