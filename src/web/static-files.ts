import { readFileSync } from 'node:fs';
import type { ServerResponse } from 'node:http';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
};

/** Same relative path from src/web (tsx) and dist/web (compiled): tsc does not copy assets. */
const ROOT = new URL('../../src/web/static/', import.meta.url);
const NAME = /^[a-z0-9-]+\.(?:html|js|css|svg)$/;

/** Strict enough that a page cannot load anything from elsewhere or be framed by another site. */
export const PAGE_HEADERS = {
  'content-security-policy': "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
  'x-frame-options': 'DENY',
  // no-referrer would make Chromium send `Origin: null` on our own form posts.
  'referrer-policy': 'same-origin',
  'x-content-type-options': 'nosniff',
} as const;

const cache = new Map<string, Buffer>();

/** The console's hand-written assets, read once; false when there is no such file. */
export function serveStatic(res: ServerResponse, name: string): boolean {
  if (!NAME.test(name)) return false;
  let body = cache.get(name);
  if (!body) {
    try {
      body = readFileSync(new URL(name, ROOT));
    } catch {
      return false;
    }
    cache.set(name, body);
  }
  res.writeHead(200, { 'content-type': TYPES[name.slice(name.lastIndexOf('.'))]!, 'content-length': body.length, 'cache-control': 'no-cache', ...PAGE_HEADERS });
  res.end(body);
  return true;
}
