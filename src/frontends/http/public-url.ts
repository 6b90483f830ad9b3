import type { IncomingMessage } from 'node:http';

const HOST = /^(?:[A-Za-z0-9.-]+|\[[0-9A-Fa-f:.]+\])(?::\d{1,5})?$/;

/**
 * The URL callers reach the gateway at, for OAuth metadata and `WWW-Authenticate`: the
 * configured `mcp.public_url` when there is one (a proxy in front), else what the request's
 * Host header says, else the socket's own address. A Host header that is not a plain host
 * and port is ignored, so it cannot inject text into a header or a document.
 */
export function publicBaseUrl(req: IncomingMessage, tls: boolean, configured: string | undefined): string {
  if (configured !== undefined) return configured.replace(/\/+$/, '');
  const host = req.headers.host;
  const scheme = tls ? 'https' : 'http';
  if (host !== undefined && HOST.test(host)) return `${scheme}://${host}`;
  const a = (req.socket.localAddress ?? '127.0.0.1').replace(/^::ffff:/, '');
  return `${scheme}://${a.includes(':') ? `[${a}]` : a}:${req.socket.localPort ?? 0}`;
}
