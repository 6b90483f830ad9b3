/**
 * The console's admin side in real headless Chromium: the demo's dev sign-in, upstream health
 * and who is connected now, ending a live pgwire session (the client hears why), signing out;
 * and, over plain HTTP, the refusals around sign-in and CSRF.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import pg from 'pg';
import type { Browser } from 'playwright-core';
import { startPostgres, type PgCluster } from '../helpers/pg-cluster.js';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { launchChromium, screenshotDir } from '../helpers/chromium.js';

let db: PgCluster;
let gw: TestGateway;
let browser: Browser;

before(async () => {
  db = await startPostgres();
  gw = await startTestGateway(db, {
    http: true,
    keys: { agent: ['agents'] },
    policy: { preset: 'read-only' },
    extra: { console: { dev_sign_in: true, reviewers: ['dba'], auditors: ['auditors'], admins: ['admins'] } },
  });
  browser = await launchChromium();
});

after(async () => {
  await browser?.close();
  await gw?.stop();
  await db?.stop();
});

test('an admin signs in (dev sign-in), sees who is connected and ends a live session', async () => {
  const client = new pg.Client(gw.pgConfig('agent'));
  const ended = new Promise<Error>((resolve) => client.on('error', resolve));
  await client.connect();
  await client.query('SELECT 1');

  const ctx = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  const page = await ctx.newPage();
  await page.goto(`${gw.httpUrl}/console/`);
  await page.waitForURL(/\/console\/sign-in$/);
  await page.getByLabel('Name').fill('ada');
  await page.getByLabel('Groups (comma-separated)').fill('admins');
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('link', { name: 'Connections' }).click();
  await page.getByText('healthy').waitFor();
  const row = page.locator('tr').filter({ hasText: 'key:agent' });
  await row.waitFor();
  assert.match(await row.innerText(), /\t1\t/);
  await page.screenshot({ path: join(screenshotDir(), 'connections.png') });

  const end = row.getByRole('button', { name: 'End the session of key:agent' });
  await end.click();
  await row.getByRole('button', { name: 'End the session of key:agent' }).click();
  const e = await ended;
  assert.match(e.message, /an administrator ended this session: by ada from the console/);
  await page.getByText('Nobody is connected.').waitFor();

  await gw.gateway.recorder!.store.flush();
  const { items } = await gw.gateway.recorder!.query.listSessions({ user: 'key:agent' });
  assert.equal(items[0]!.endReason, 'ended-by-admin');

  await page.getByRole('button', { name: 'Sign out' }).click();
  await page.waitForURL(/\/console\/sign-in$/);
  assert.equal(await page.evaluate(async () => (await fetch('/console/api/me')).status), 401);
  await ctx.close();
});

test('refusals: no session, a stale callback, a missing CSRF token, a cross-site dev sign-in', async () => {
  const base = gw.httpUrl!;
  assert.equal((await fetch(`${base}/console/api/me`)).status, 401);
  const page = await fetch(`${base}/console/`, { redirect: 'manual' });
  assert.equal(page.status, 302);
  assert.equal(page.headers.get('location'), '/console/sign-in');

  const stale = await fetch(`${base}/console/callback?code=abc&state=never-issued`);
  assert.equal(stale.status, 400);

  const crossSite = await fetch(`${base}/console/dev-sign-in`, { method: 'POST', redirect: 'manual', headers: { origin: 'http://evil.example', 'content-type': 'application/x-www-form-urlencoded' }, body: 'subject=eve&groups=admins' });
  assert.equal(crossSite.status, 403);

  const signIn = await fetch(`${base}/console/dev-sign-in`, { method: 'POST', redirect: 'manual', headers: { origin: base, 'content-type': 'application/x-www-form-urlencoded' }, body: 'subject=ada&groups=admins' });
  assert.equal(signIn.status, 302);
  const setCookie = signIn.headers.get('set-cookie')!;
  assert.match(setCookie, /^portcullis_console=[A-Za-z0-9_-]{43}; Path=\/console; Max-Age=28800; HttpOnly; SameSite=Lax$/);
  const cookie = setCookie.split(';')[0]!;
  const me = (await (await fetch(`${base}/console/api/me`, { headers: { cookie } })).json()) as { csrf: string; roles: string[] };
  assert.deepEqual(me.roles, ['admin']);

  const post = (headers: Record<string, string>) => fetch(`${base}/console/api/explain`, { method: 'POST', headers: { cookie, 'content-type': 'application/json', ...headers }, body: JSON.stringify({ sql: 'SELECT 1', subject: 'x', connection: 'main' }) });
  assert.equal((await post({ origin: base })).status, 403, 'no token');
  assert.equal((await post({ origin: base, 'x-csrf-token': `${me.csrf}x` })).status, 403, 'wrong token');
  assert.equal((await post({ 'x-csrf-token': me.csrf })).status, 403, 'no origin');
  assert.equal((await post({ origin: 'http://evil.example', 'x-csrf-token': me.csrf })).status, 403, 'other origin');
  const ok = await post({ origin: base, 'x-csrf-token': me.csrf });
  assert.equal(ok.status, 200);
  assert.equal(((await ok.json()) as { decision: { action: string } }).decision.action, 'allow');
});
