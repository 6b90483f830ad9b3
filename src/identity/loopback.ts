import { isIP } from 'node:net';

/**
 * Whether a URL points at this machine. Plain-HTTP identity endpoints are allowed only there
 * (`allow_http`, for tests and local development): anywhere else a network attacker could
 * swap the signing keys or forge introspection answers.
 */
export function isLoopbackUrl(url: URL): boolean {
  // URL keeps IPv6 literals bracketed: `http://[::1]:8080` has hostname `[::1]`.
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1').toLowerCase();
  if (host === 'localhost' || host.endsWith('.localhost')) return true;
  if (isIP(host) === 4) return host.startsWith('127.');
  if (isIP(host) === 6) return host === '::1' || host === '0:0:0:0:0:0:0:1';
  return false;
}

/** `https:` always; `http:` only to loopback and only when the configuration allows it. */
export function isAllowedEndpoint(url: URL, allowHttp: boolean): boolean {
  if (url.protocol === 'https:') return true;
  return url.protocol === 'http:' && allowHttp && isLoopbackUrl(url);
}
