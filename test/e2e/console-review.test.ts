/**
 * The web console end to end in real headless Chromium, against a real OpenID provider
 * (authorization code + PKCE) and a real PostgreSQL behind the gateway: a psql statement held
 * for review waits; a reviewer signs in, sees it arrive live and approves it; psql gets its
 * rows; an auditor finds the session and replays it; a user outside the console groups is
 * refused; a forged cross-site POST is refused. UPDATE_SCREENSHOTS=1 saves the pages to
 * docs/screenshots/.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { startPostgres, type PgCluster } from '../helpers/pg-cluster.js';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { run, type RunResult } from '../helpers/run.js';
import { launchChromium, screenshotDir } from '../helpers/chromium.js';
import { CONSOLE_CLIENT_ID, CONSOLE_CLIENT_SECRET, startLoginIdp, type LoginIdp } from '../helpers/oidc-login-provider.js';

const USERS = { rita: ['dba'], audrey: ['auditors'], mallory: ['analysts'] };
const HELD = "UPDATE accounts SET balance = 0 WHERE id = 1 RETURNING id, balance, email";

let db: PgCluster;
let gw: TestGateway;
let idp: LoginIdp;
let browser: Browser;
let attacker: Server;
let reviewer: { ctx: BrowserContext; page: Page };
let held: Promise<RunResult>;
let SHOTS: string;

before(async () => {
  db = await startPostgres();
  await db.exec(`CREATE TABLE accounts (id int PRIMARY KEY, balance int NOT NULL, email text NOT NULL);
                 INSERT INTO accounts SELECT g, g * 10, 'user' || g || '@example.com' FROM generate_series(1, 20) g;`);
  idp = await startLoginIdp(USERS);
  gw = await startTestGateway(db, {
    http: true,
    keys: { agent: ['agents'] },
    identities: { oidc: [{ issuer: idp.issuer, audience: 'portcullis', allow_http: true }] },
    policy: { preset: 'read-only', rules: [{ name: 'hold-writes', what: { kinds: ['write'] }, action: 'review', reason: 'writes need a DBA', review: { approvers: ['dba'], mode: 'hold', timeout: '60s' } }] },
    extra: {
      approvals: {},
      masking: { detectors: [{ name: 'email', strategy: 'redact' }] },
      console: { issuer: idp.issuer, client_id: CONSOLE_CLIENT_ID, client_secret: CONSOLE_CLIENT_SECRET, scopes: ['openid', 'groups'], reviewers: ['dba'], auditors: ['auditors'], admins: ['admins'] },
    },
  });
  idp.register(`${gw.httpUrl}/console/callback`);
  browser = await launchChromium();
  SHOTS = screenshotDir();
});

after(async () => {
  await browser?.close();
  await new Promise((r) => (attacker ? attacker.close(r) : r(undefined)));
  await gw?.stop();
  await idp?.stop();
  await db?.stop();
});

/** A fresh browser profile signs in through the provider's login page as `user`. */
async function signIn(user: string): Promise<{ ctx: BrowserContext; page: Page; callback: string }> {
  const ctx = await browser.newContext({ viewport: { width: 1280, height: 860 } });
  const page = await ctx.newPage();
  let callback = '';
  page.on('request', (r) => {
    if (r.url().startsWith(`${gw.httpUrl}/console/callback`)) callback = r.url();
  });
  await page.goto(`${gw.httpUrl}/console/`);
  // Redirected to the provider's login page: the flow really left the gateway.
  assert.ok(page.url().startsWith(`${idp.issuer}/interaction/`), page.url());
  await page.getByLabel('User').fill(user);
  await page.getByRole('button', { name: 'Continue' }).click();
  await page.waitForURL((u) => u.href.startsWith(`${gw.httpUrl}/console/`));
  return { ctx, page, callback };
}

test('a reviewer signs in and sees a held psql statement arrive live', async () => {
  reviewer = await signIn('rita');
  const { page, ctx } = reviewer;
  await page.getByRole('heading', { name: 'Approvals' }).waitFor();
  await page.getByText('Live: new requests appear').waitFor();
  const cookie = (await ctx.cookies()).find((c) => c.name === 'portcullis_console')!;
  assert.deepEqual({ httpOnly: cookie.httpOnly, sameSite: cookie.sameSite, secure: cookie.secure, path: cookie.path }, { httpOnly: true, sameSite: 'Lax', secure: false, path: '/console' });

  // Started only now, so the card can only come from the live stream.
  held = run('psql', ['-X', '-A', '-t', '-v', 'ON_ERROR_STOP=1', '-d', gw.url(), '-c', HELD], { env: gw.env('agent'), timeoutMs: 60_000 });
  const card = page.locator('article.request').filter({ hasText: 'key:agent' });
  await card.waitFor({ timeout: 15_000 });
  assert.match(await card.locator('pre.sql').innerText(), /^UPDATE accounts\nSET balance = 0\nWHERE id = 1\nRETURNING id, balance, email$/);
  await card.getByText('hold-writes').waitFor();
  await card.getByText('about 1 row').waitFor({ timeout: 10_000 });
  await page.screenshot({ path: join(SHOTS, 'approvals.png') });
});

test('a forged cross-site POST is refused and the request stays pending', async () => {
  const [pending] = await gw.gateway.approvals!.list('pending', 10);
  assert.ok(pending);
  attacker = createServer((_req, res) => {
    res.setHeader('content-type', 'text/html');
    res.end(`<form id="f" method="post" enctype="text/plain" action="${gw.httpUrl}/console/api/approvals/${pending.id}/approve"><input name='{"comment":"' value='"}'></form><script>document.getElementById('f').submit()</script>`);
  });
  await new Promise<void>((r) => attacker.listen(0, '127.0.0.1', r));
  const port = (attacker.address() as AddressInfo).port;
  const forge = async (host: string): Promise<number> => {
    const evil = await reviewer.ctx.newPage();
    const answer = evil.waitForResponse((r) => r.url().includes('/console/api/approvals/'));
    await evil.goto(`http://${host}:${port}/`);
    const status = (await answer).status();
    await evil.close();
    return status;
  };
  // Another site: SameSite=Lax keeps the session cookie off the POST.
  assert.equal(await forge('localhost'), 401);
  // Same site, another origin (another port on this host): the cookie rides along, and the
  // Origin and CSRF-token checks refuse it.
  assert.equal(await forge('127.0.0.1'), 403);
  assert.equal((await gw.gateway.approvals!.get(pending.id))!.status, 'pending');
});

test('approving in the console releases psql with its (masked) rows', async () => {
  const { page } = reviewer;
  const card = page.locator('article.request').filter({ hasText: 'key:agent' });
  await card.getByLabel('Comment').fill('ticket OPS-7');
  await card.getByRole('button', { name: 'Approve' }).click();
  const r = await held;
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^1\|0\|/);
  assert.ok(!r.stdout.includes('user1@example.com'), r.stdout);
  // Gone from the queue, present in the history, without a reload.
  await page.getByText('No requests are waiting.').waitFor();
  await page.locator('table.grid').getByText('rita (approve: ticket OPS-7)').waitFor();
  await reviewer.ctx.close();
});

test('an auditor finds the session, reads its timeline and replays it', async () => {
  await gw.gateway.recorder!.store.flush();
  const { page, ctx } = await signIn('audrey');
  await page.waitForURL(/#\/sessions$/);
  await page.getByLabel('User (subject)').fill('key:agent');
  await page.getByLabel('Had a statement').selectOption('allow');
  await page.getByRole('button', { name: 'Search' }).click();
  const row = page.locator('#session-results tbody tr').filter({ hasText: 'psql' });
  await row.first().waitFor();
  await page.screenshot({ path: join(SHOTS, 'sessions.png') });
  await row.first().getByRole('link').click();
  const timeline = page.locator('#timeline');
  await timeline.getByText('Approval: approved by rita').waitFor();
  const cells = await timeline.locator('table.rows td').allInnerTexts();
  assert.equal(cells[0], '1');
  assert.ok(!cells.some((c) => c.includes('@example.com')), `unmasked: ${cells.join(' ')}`);
  await page.getByRole('button', { name: 'Replay' }).click();
  await page.locator('#replay-done').waitFor({ timeout: 20_000 });
  assert.match(await timeline.innerText(), /UPDATE accounts/);
  await page.screenshot({ path: join(SHOTS, 'session.png'), fullPage: true });
  const exported = await page.evaluate(async (href) => (await fetch(href)).json(), (await page.getByRole('link', { name: 'Export JSON' }).getAttribute('href'))!);
  assert.equal(exported.statements[0].statement.sql, HELD);

  await page.getByRole('link', { name: 'Policy' }).click();
  await page.getByLabel('SQL').fill('DELETE FROM accounts WHERE id = 3');
  await page.getByLabel('As subject').fill('key:agent');
  await page.getByLabel('Groups (comma-separated)').fill('agents');
  await page.getByRole('button', { name: 'Explain' }).click();
  await page.locator('#explain-result').getByText('held by rule "hold-writes"').waitFor();
  await page.screenshot({ path: join(SHOTS, 'policy.png'), fullPage: true });

  await page.getByRole('link', { name: 'Connections' }).click();
  await page.getByText('healthy').waitFor();
  // Auditors read; they cannot vote.
  const vote = await page.evaluate(async () => {
    const me = await (await fetch('/console/api/me')).json();
    const r = await fetch('/console/api/approvals/00000000-0000-0000-0000-000000000000/approve', { method: 'POST', headers: { 'content-type': 'application/json', 'x-csrf-token': me.csrf }, body: '{}' });
    return r.status;
  });
  assert.equal(vote, 403);
  await ctx.close();
});

test('a user outside the console groups is refused after signing in', async () => {
  const { page, ctx, callback } = await signIn('mallory');
  assert.equal(await page.locator('h1').innerText(), 'Not allowed');
  assert.match(await page.locator('main').innerText(), /signed in as mallory, but none of your groups may use the console/);
  const api = await page.evaluate(async () => (await fetch('/console/api/sessions')).status);
  assert.equal(api, 401);
  // The callback, code and state cannot be used a second time.
  const again = await ctx.newPage();
  assert.match(callback, /\?code=.+&state=|\?.*state=.*code=/);
  const replayed = await again.goto(callback);
  assert.equal(replayed!.status(), 400);
  await ctx.close();
});
