import type { IncomingMessage } from 'node:http';

/** One cookie's value from the request, or undefined. Values we set are base64url, never quoted. */
export function readCookie(req: IncomingMessage, name: string): string | undefined {
  const header = req.headers.cookie;
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}

export interface CookieOptions {
  readonly path: string;
  readonly maxAgeSeconds: number;
  /** Off only on plain-HTTP loopback, where a browser would drop a Secure cookie. */
  readonly secure: boolean;
}

/** HttpOnly so page scripts never see it; SameSite=Lax so a cross-site POST arrives without it. */
export function setCookie(name: string, value: string, o: CookieOptions): string {
  return `${name}=${value}; Path=${o.path}; Max-Age=${Math.max(0, Math.floor(o.maxAgeSeconds))}; HttpOnly; SameSite=Lax${o.secure ? '; Secure' : ''}`;
}

export function clearCookie(name: string, path: string, secure: boolean): string {
  return setCookie(name, '', { path, maxAgeSeconds: 0, secure });
}
