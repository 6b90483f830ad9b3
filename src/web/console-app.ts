import type { IncomingMessage, ServerResponse } from 'node:http';
import { isIP } from 'node:net';
import { PortcullisError, isPortcullisError } from '../errors/portcullis-error.js';
import { sendError } from '../frontends/http/json-response.js';
import type { ConsoleConfig } from './console-config.js';
import type { ConsoleDeps } from './console-deps.js';
import { clearCookie, readCookie, setCookie } from './cookies.js';
import { logAction } from './action-log.js';
import { devSignInForm, escapeHtml, sendPage } from './message-page.js';
import { OidcSignIn } from './oidc-sign-in.js';
import { rolesFor } from './roles.js';
import { SessionStore, sameToken, type ConsoleSession } from './session-store.js';
import { serveStatic } from './static-files.js';
import { ConsoleApi } from './console-api.js';

export const CONSOLE_PATH = '/console';
const SESSION_COOKIE = 'portcullis_console';
const LOGIN_COOKIE = 'portcullis_login';
const FORM_LIMIT = 4096;

/** One request as the HTTP listener hands it over. */
export interface ConsoleExchange {
  readonly req: IncomingMessage;
  readonly res: ServerResponse;
  readonly path: string;
  readonly method: string;
  /** Scheme, host and port the browser used, e.g. `http://127.0.0.1:8080`. */
  readonly base: string;
  readonly tls: boolean;
}

/** A signed-in request: the session and the exchange. */
export interface Authed {
  readonly x: ConsoleExchange;
  readonly s: ConsoleSession;
}

/**
 * The console under `/console/`: sign-in (OIDC authorization code + PKCE, or the demo's dev
 * form), the session cookie, CSRF checks, the static app, and the JSON API it calls.
 *
 * Every state-changing request must come from our own origin (Origin header) and carry the
 * session's synchronizer token in `x-csrf-token`; SameSite=Lax already keeps the cookie off
 * cross-site POSTs, and these two checks hold even where it does not (same-site subdomains,
 * older browsers).
 */
export class ConsoleApp {
  readonly #c: ConsoleConfig;
  readonly #deps: ConsoleDeps;
  readonly #store: SessionStore;
  readonly #oidc: OidcSignIn | undefined;
  readonly #api: ConsoleApi;
  readonly #now: () => number;

  constructor(c: ConsoleConfig, deps: ConsoleDeps) {
    this.#c = c;
    this.#deps = deps;
    this.#now = deps.now ?? Date.now;
    this.#store = new SessionStore(this.#now);
    if (c.issuer !== undefined && c.client_id !== undefined) {
      const issuer = deps.config.identities.oidc.find((o) => o.issuer === c.issuer);
      if (!issuer) throw new PortcullisError('ERR_CONFIG_INVALID', `console.issuer ${c.issuer} is not one of identities.oidc[].issuer`);
      this.#oidc = new OidcSignIn(issuer, c.client_id, c.client_secret, c.scopes);
    }
    this.#api = new ConsoleApi(deps, (id) => this.#store.get(id) !== undefined);
  }

  async handle(x: ConsoleExchange): Promise<void> {
    try {
      await this.#route(x);
    } catch (e) {
      if (!isPortcullisError(e)) throw e;
      if (x.path.startsWith(`${CONSOLE_PATH}/api/`)) sendError(x.res, e.code, e.message);
      else sendPage(x.res, e.httpStatus, 'Sign-in failed', `<p>${escapeHtml(e.message)}</p><p><a href="/console/sign-in">Try again</a></p>`);
    }
  }

  async #route(x: ConsoleExchange): Promise<void> {
    const { path, method } = x;
    if (path === CONSOLE_PATH) return redirect(x.res, '/console/');
    if (path === '/console/sign-in' && method === 'GET') return this.#signIn(x);
    if (path === '/console/callback' && method === 'GET') return this.#callback(x);
    if (path === '/console/dev-sign-in' && method === 'POST') return this.#devSignIn(x);
    const s = this.#store.get(readCookie(x.req, SESSION_COOKIE));
    if (path === '/console/' || path === '/console/index.html') {
      if (method !== 'GET' && method !== 'HEAD') return void sendError(x.res, 'ERR_PROTOCOL_VIOLATION', `${path} accepts GET`, { status: 405 });
      if (!s) return redirect(x.res, '/console/sign-in');
      serveStatic(x.res, 'index.html');
      return;
    }
    if (path.startsWith('/console/api/')) {
      if (!s) return void sendError(x.res, 'ERR_AUTH_REQUIRED', 'sign in to the console first (GET /console/sign-in)', { status: 401 });
      if (method !== 'GET' && method !== 'HEAD' && !this.#csrfOk(x, s)) return;
      if (path === '/console/api/me' && method === 'GET') return void this.#api.me(x, s);
      if (path === '/console/api/sign-out' && method === 'POST') return this.#signOut(x, s);
      return this.#api.handle({ x, s });
    }
    const name = path.slice('/console/'.length);
    if ((method === 'GET' || method === 'HEAD') && serveStatic(x.res, name)) return;
    sendError(x.res, 'ERR_NOT_FOUND', `no console page ${path}`);
  }

  /** Same origin (Origin header) and the session's token in a header: both, always. */
  #csrfOk(x: ConsoleExchange, s: ConsoleSession): boolean {
    const origin = x.req.headers.origin;
    const token = x.req.headers['x-csrf-token'];
    if (origin !== new URL(x.base).origin || !sameToken(typeof token === 'string' ? token : undefined, s.csrf)) {
      this.#deps.logger.warn({ console: { action: 'csrf-refused', subject: s.subject, path: x.path, origin: origin?.slice(0, 100) ?? null } }, 'console: cross-site or tokenless request refused');
      sendError(x.res, 'ERR_PROTOCOL_VIOLATION', 'this request did not come from the console page (origin or CSRF token missing or wrong)', { status: 403 });
      return false;
    }
    return true;
  }

  #secure(x: ConsoleExchange): boolean {
    return x.tls || !this.#loopback(x);
  }

  /** The listener's own address is loopback: only there may the dev sign-in run. */
  #loopback(x: ConsoleExchange): boolean {
    const a = (x.req.socket.localAddress ?? '').replace(/^::ffff:/, '');
    return isIP(a) === 4 ? a.startsWith('127.') : a === '::1';
  }

  async #signIn(x: ConsoleExchange): Promise<void> {
    if (this.#c.dev_sign_in && !this.#oidc) {
      if (!this.#loopback(x)) throw new PortcullisError('ERR_AUTH_INSECURE_TRANSPORT', 'console.dev_sign_in works only on a loopback listener');
      return sendPage(x.res, 200, 'Sign in', devSignInForm());
    }
    if (!this.#oidc) throw new PortcullisError('ERR_CONFIG_INVALID', 'console sign-in is not configured');
    const redirectUri = this.#c.redirect_url ?? `${x.base}/console/callback`;
    const { login, url } = await this.#oidc.begin(redirectUri, this.#now());
    this.#store.addLogin(login);
    // Binds the callback to this browser: a login started elsewhere cannot be finished here.
    redirect(x.res, url, [setCookie(LOGIN_COOKIE, login.state, { path: '/console/callback', maxAgeSeconds: 600, secure: this.#secure(x) })]);
  }

  async #callback(x: ConsoleExchange): Promise<void> {
    const q = new URL(x.req.url ?? '/', 'http://x').searchParams;
    const state = q.get('state') ?? '';
    const bound = readCookie(x.req, LOGIN_COOKIE);
    const clear = clearCookie(LOGIN_COOKIE, '/console/callback', this.#secure(x));
    if (q.get('error') !== null) {
      return sendPage(x.res, 401, 'Sign-in failed', `<p>The identity provider answered <code>${escapeHtml(q.get('error')!.slice(0, 100))}</code>.</p><p><a href="/console/sign-in">Try again</a></p>`, { 'set-cookie': clear });
    }
    const login = bound !== undefined && sameToken(bound, state) ? this.#store.takeLogin(state) : undefined;
    const code = q.get('code');
    if (!login || !code || !this.#oidc) {
      return sendPage(x.res, 400, 'Sign-in failed', '<p>This sign-in link is stale, was already used, or was started in another browser.</p><p><a href="/console/sign-in">Start again</a></p>', { 'set-cookie': clear });
    }
    const who = await this.#oidc.finish(login, code);
    this.#startSession(x, who.subject, who.groups, this.#c.issuer!, [clear]);
  }

  async #devSignIn(x: ConsoleExchange): Promise<void> {
    if (!this.#c.dev_sign_in || this.#oidc || !this.#loopback(x)) return void sendError(x.res, 'ERR_NOT_FOUND', 'dev sign-in is off');
    if (x.req.headers.origin !== new URL(x.base).origin) return void sendError(x.res, 'ERR_PROTOCOL_VIOLATION', 'cross-site sign-in refused', { status: 403 });
    const form = new URLSearchParams(await readForm(x.req));
    const subject = (form.get('subject') ?? '').trim();
    if (subject === '') return sendPage(x.res, 400, 'Sign in', devSignInForm('a name is required'));
    const groups = (form.get('groups') ?? '').split(',').map((g) => g.trim()).filter((g) => g !== '');
    this.#startSession(x, subject, groups, 'portcullis:console-dev', []);
  }

  #startSession(x: ConsoleExchange, subject: string, groups: string[], issuer: string, cookies: string[]): void {
    const roles = rolesFor(groups, this.#c);
    if (roles.length === 0) {
      logAction(this.#deps.logger, subject, 'sign-in-refused', { groups });
      return sendPage(x.res, 403, 'Not allowed', `<p>You are signed in as <strong>${escapeHtml(subject)}</strong>, but none of your groups may use the console.</p><p>Ask an administrator to add one of your groups to <code>console.reviewers</code>, <code>console.auditors</code> or <code>console.admins</code>.</p>`, { 'set-cookie': cookies });
    }
    const s = this.#store.create({ subject, groups, issuer, roles }, this.#c.session_ttl * 1000);
    logAction(this.#deps.logger, subject, 'sign-in', { roles, issuer });
    redirect(x.res, '/console/', [...cookies, setCookie(SESSION_COOKIE, s.id, { path: CONSOLE_PATH, maxAgeSeconds: this.#c.session_ttl, secure: this.#secure(x) })]);
  }

  #signOut(x: ConsoleExchange, s: ConsoleSession): void {
    this.#store.delete(s.id);
    logAction(this.#deps.logger, s.subject, 'sign-out');
    x.res.writeHead(204, { 'set-cookie': clearCookie(SESSION_COOKIE, CONSOLE_PATH, this.#secure(x)), 'cache-control': 'no-store' });
    x.res.end();
  }
}

function redirect(res: ServerResponse, location: string, cookies: string[] = []): void {
  res.writeHead(302, { location, 'cache-control': 'no-store', 'content-length': 0, ...(cookies.length ? { 'set-cookie': cookies } : {}) });
  res.end();
}

async function readForm(req: IncomingMessage): Promise<string> {
  if (!/^application\/x-www-form-urlencoded\b/i.test(req.headers['content-type'] ?? '')) throw new PortcullisError('ERR_PROTOCOL_VIOLATION', 'expected a form');
  let size = 0;
  const chunks: Buffer[] = [];
  for await (const c of req as AsyncIterable<Buffer>) {
    size += c.length;
    if (size > FORM_LIMIT) throw new PortcullisError('ERR_MESSAGE_TOO_LARGE', 'the form is too large');
    chunks.push(c);
  }
  return Buffer.concat(chunks).toString('utf8');
}
