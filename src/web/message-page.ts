import type { ServerResponse } from 'node:http';
import { PAGE_HEADERS } from './static-files.js';

export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** A small server-rendered page for what happens before the console app can load. */
export function sendPage(res: ServerResponse, status: number, title: string, bodyHtml: string, headers: Record<string, string | string[]> = {}): void {
  const html = `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>${escapeHtml(title)} · Portcullis</title><link rel="stylesheet" href="/console/console.css"></head><body class="plain"><main class="card narrow"><h1>${escapeHtml(title)}</h1>${bodyHtml}</main></body></html>`;
  res.writeHead(status, { 'content-type': 'text/html; charset=utf-8', 'content-length': Buffer.byteLength(html), 'cache-control': 'no-store', ...PAGE_HEADERS, ...headers });
  res.end(html);
}

export function devSignInForm(error?: string): string {
  return `${error ? `<p class="error" role="alert">${escapeHtml(error)}</p>` : ''}<p class="warn">Development sign-in: anyone who can reach this page can claim any name. Never enable <code>console.dev_sign_in</code> outside a demo.</p>
<form method="post" action="/console/dev-sign-in" class="stack">
<label for="subject">Name</label><input id="subject" name="subject" required maxlength="200" autocomplete="username">
<label for="groups">Groups (comma-separated)</label><input id="groups" name="groups" maxlength="1000">
<button type="submit">Sign in</button></form>`;
}
