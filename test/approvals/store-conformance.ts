/**
 * One suite, every approvals store (STYLE.md §6): sqlite-store.test.ts and
 * postgres-store.test.ts run these cases against a real SQLite file and a real PostgreSQL
 * server. Times are plain numbers passed in, so nothing here sleeps.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import type { ReviewSummary } from '../../src/approvals/request.js';
import type { ApprovalStore, NewRequest } from '../../src/approvals/store.js';

export interface ApprovalStoreTarget {
  /**
   * A new, empty location. Its `open` may be called several times: two stores on one location
   * are two gateways sharing it, or one gateway before and after a restart.
   */
  fresh(): Promise<{ open(): ApprovalStore }>;
}

const T0 = Date.UTC(2025, 0, 15, 9, 0, 0);
const MIN = 60_000;

function summary(sql: string): ReviewSummary {
  return {
    who: { subject: 'key:agent', groups: ['agents'], client: '127.0.0.1', frontend: 'pgwire', applicationName: 'psql' },
    connection: 'main',
    session: 'session-1',
    sql,
    params: null,
    facts: { kind: 'write', tags: ['UPDATE'], tables: ['public.orders'], risks: [] },
    rule: 'writes-need-review',
    reason: 'writes need a DBA',
    estimatedRows: null,
  };
}

function request(over: Partial<NewRequest> = {}): NewRequest {
  return {
    id: randomUUID(),
    mode: 'return',
    scope: 'statement',
    rule: 'writes-need-review',
    approvers: ['dba', 'sre'],
    approvalsNeeded: 1,
    subject: 'key:agent',
    connection: 'main',
    fingerprint: 'fp-1',
    createdMs: T0,
    expiresMs: T0 + 15 * MIN,
    gateway: 'gw-1',
    summary: summary("UPDATE orders SET state = 'closed' WHERE id = 1"),
    ...over,
  };
}

/** An approved grant, as the engine leaves it after enough votes. */
async function approved(store: ApprovalStore, over: Partial<NewRequest> = {}, grantUntilMs = T0 + 10 * MIN): Promise<NewRequest> {
  const r = request(over);
  await store.insert(r);
  assert.equal(await store.transition(r.id, 'pending', 'approved', r.createdMs + 1000, grantUntilMs), true);
  return r;
}

async function withStore(target: ApprovalStoreTarget, f: (store: ApprovalStore, open: () => ApprovalStore) => Promise<void>): Promise<void> {
  const loc = await target.fresh();
  const opened: ApprovalStore[] = [];
  const open = (): ApprovalStore => {
    const s = loc.open();
    opened.push(s);
    return s;
  };
  try {
    await f(open(), open);
  } finally {
    for (const s of opened) await s.close();
  }
}

export function approvalStoreConformance(name: string, target: ApprovalStoreTarget): void {
  test(`${name}: a request is stored and read back field for field`, () =>
    withStore(target, async (store) => {
      const r = request({ mode: 'hold', scope: 'window', approvalsNeeded: 2 });
      await store.insert(r);
      const got = await store.get(r.id);
      assert.deepEqual(got, {
        id: r.id,
        status: 'pending',
        mode: 'hold',
        scope: 'window',
        rule: 'writes-need-review',
        approvers: ['dba', 'sre'],
        approvalsNeeded: 2,
        subject: 'key:agent',
        connection: 'main',
        createdAt: new Date(T0).toISOString(),
        expiresAt: new Date(T0 + 15 * MIN).toISOString(),
        decidedAt: null,
        grantUntil: null,
        usedAt: null,
        summary: r.summary,
        votes: [],
        fingerprint: 'fp-1',
        gateway: 'gw-1',
      });
      assert.equal(await store.get(randomUUID()), undefined);
      await store.setSummary(r.id, { ...r.summary, estimatedRows: 42 });
      assert.equal((await store.get(r.id))?.summary.estimatedRows, 42);
    }));

  test(`${name}: requests are listed newest first, by status, up to the limit`, () =>
    withStore(target, async (store) => {
      const ids: string[] = [];
      for (let i = 0; i < 5; i++) {
        const r = request({ createdMs: T0 + i * 1000, fingerprint: `fp-${i}` });
        ids.push(r.id);
        await store.insert(r);
      }
      await store.transition(ids[1]!, 'pending', 'denied', T0 + MIN);
      assert.deepEqual(
        (await store.list(undefined, 100)).map((r) => r.id),
        [...ids].reverse(),
      );
      assert.deepEqual(
        (await store.list('pending', 100)).map((r) => r.id),
        [ids[4], ids[3], ids[2], ids[0]],
      );
      assert.deepEqual(
        (await store.list('denied', 100)).map((r) => r.id),
        [ids[1]],
      );
      assert.deepEqual(
        (await store.list(undefined, 2)).map((r) => r.id),
        [ids[4], ids[3]],
      );
      assert.deepEqual(await store.list('used', 100), []);
    }));

  test(`${name}: one vote per person, a second replaces the first, in the order cast`, () =>
    withStore(target, async (store) => {
      const r = request({ approvalsNeeded: 2 });
      await store.insert(r);
      await store.vote(r.id, { voter: 'bob', vote: 'deny', comment: 'not yet', timeMs: T0 + 1000 });
      await store.vote(r.id, { voter: 'alice', vote: 'approve', comment: null, timeMs: T0 + 2000 });
      await store.vote(r.id, { voter: 'bob', vote: 'approve', comment: 'ok now', timeMs: T0 + 3000 });
      const votes = (await store.get(r.id))!.votes;
      assert.deepEqual(votes, [
        { voter: 'alice', vote: 'approve', comment: null, time: new Date(T0 + 2000).toISOString() },
        { voter: 'bob', vote: 'approve', comment: 'ok now', time: new Date(T0 + 3000).toISOString() },
      ]);
      // Votes travel with every way of reading a request.
      assert.deepEqual((await store.list(undefined, 10))[0]!.votes, votes);
      assert.deepEqual((await store.pendingFor('fp-1', T0))!.votes, votes);
    }));

  test(`${name}: a transition succeeds only from the state it names`, () =>
    withStore(target, async (store) => {
      const r = request();
      await store.insert(r);
      assert.equal(await store.transition(r.id, 'approved', 'used', T0 + 1), false);
      assert.equal(await store.transition(r.id, 'pending', 'approved', T0 + 1000, T0 + 5 * MIN), true);
      // A second decider (another gateway, a timeout) loses.
      assert.equal(await store.transition(r.id, 'pending', 'denied', T0 + 2000), false);
      assert.equal(await store.transition(r.id, 'pending', 'expired', T0 + 2000), false);
      let got = (await store.get(r.id))!;
      assert.equal(got.status, 'approved');
      assert.equal(got.decidedAt, new Date(T0 + 1000).toISOString());
      assert.equal(got.grantUntil, new Date(T0 + 5 * MIN).toISOString());
      assert.equal(await store.transition(r.id, 'approved', 'used', T0 + 3000), true);
      got = (await store.get(r.id))!;
      assert.equal(got.status, 'used');
      assert.equal(got.usedAt, new Date(T0 + 3000).toISOString());
      // The grant's end is kept when a transition does not name one.
      assert.equal(got.grantUntil, new Date(T0 + 5 * MIN).toISOString());
      assert.equal(await store.transition(randomUUID(), 'pending', 'denied', T0), false);
    }));

  test(`${name}: a statement grant is spent once, only for its fingerprint, only while it lasts`, () =>
    withStore(target, async (store) => {
      const r = await approved(store, { fingerprint: 'fp-spend' });
      assert.equal(await store.spendGrant('fp-other', T0 + MIN), undefined);
      const spent = await store.spendGrant('fp-spend', T0 + MIN);
      assert.equal(spent?.id, r.id);
      assert.equal(spent?.status, 'used');
      assert.equal(spent?.usedAt, new Date(T0 + MIN).toISOString());
      assert.equal(await store.spendGrant('fp-spend', T0 + MIN), undefined);
      assert.equal((await store.get(r.id))?.status, 'used');

      // Past grant_until, a hold request, a window grant or a pending request is not spendable.
      await approved(store, { fingerprint: 'fp-late' }, T0 + MIN);
      assert.equal(await store.spendGrant('fp-late', T0 + MIN), undefined);
      await approved(store, { fingerprint: 'fp-hold', mode: 'hold' });
      assert.equal(await store.spendGrant('fp-hold', T0 + MIN), undefined);
      await approved(store, { fingerprint: 'fp-window', scope: 'window' });
      assert.equal(await store.spendGrant('fp-window', T0 + MIN), undefined);
      await store.insert(request({ fingerprint: 'fp-pending' }));
      assert.equal(await store.spendGrant('fp-pending', T0 + MIN), undefined);

      // Two grants for one statement are two runs, oldest first.
      const a = await approved(store, { fingerprint: 'fp-two', createdMs: T0 });
      const b = await approved(store, { fingerprint: 'fp-two', createdMs: T0 + 1 });
      assert.equal((await store.spendGrant('fp-two', T0 + MIN))?.id, a.id);
      assert.equal((await store.spendGrant('fp-two', T0 + MIN))?.id, b.id);
      assert.equal(await store.spendGrant('fp-two', T0 + MIN), undefined);
    }));

  test(`${name}: spenders racing on two stores sharing one location: exactly one wins`, () =>
    withStore(target, async (store, open) => {
      const other = open();
      for (let round = 0; round < 5; round++) {
        const r = await approved(store, { fingerprint: `fp-race-${round}` });
        const results = await Promise.all(Array.from({ length: 12 }, (_, i) => (i % 2 === 0 ? store : other).spendGrant(`fp-race-${round}`, T0 + MIN)));
        const winners = results.filter((x) => x !== undefined);
        assert.equal(winners.length, 1, `round ${round}: ${winners.length} spenders won`);
        assert.equal(winners[0]!.id, r.id);
        assert.equal((await other.get(r.id))?.status, 'used');
      }
    }));

  test(`${name}: deciders racing on two stores: exactly one transition wins`, () =>
    withStore(target, async (store, open) => {
      const other = open();
      const r = request();
      await store.insert(r);
      const moves = await Promise.all([
        store.transition(r.id, 'pending', 'approved', T0 + 1, T0 + MIN),
        other.transition(r.id, 'pending', 'denied', T0 + 1),
        store.transition(r.id, 'pending', 'expired', T0 + 1),
        other.transition(r.id, 'pending', 'withdrawn', T0 + 1),
      ]);
      assert.equal(moves.filter(Boolean).length, 1, JSON.stringify(moves));
    }));

  test(`${name}: the pending request for a statement, and only while it may be decided`, () =>
    withStore(target, async (store) => {
      const old = request({ fingerprint: 'fp-p', createdMs: T0, expiresMs: T0 + MIN });
      const recent = request({ fingerprint: 'fp-p', createdMs: T0 + 1000, expiresMs: T0 + 10 * MIN });
      await store.insert(old);
      await store.insert(recent);
      assert.equal((await store.pendingFor('fp-p', T0 + 2000))?.id, recent.id);
      await store.transition(recent.id, 'pending', 'denied', T0 + 3000);
      assert.equal((await store.pendingFor('fp-p', T0 + 3000))?.id, old.id);
      assert.equal(await store.pendingFor('fp-p', T0 + MIN), undefined, 'expired by time, even while still marked pending');
      assert.equal(await store.pendingFor('fp-none', T0), undefined);
    }));

  test(`${name}: a window grant covers its subject, connection and rule until it closes`, () =>
    withStore(target, async (store) => {
      const w = await approved(store, { scope: 'window', fingerprint: 'fp-w' }, T0 + 10 * MIN);
      assert.equal((await store.openWindow('key:agent', 'main', 'writes-need-review', T0 + MIN))?.id, w.id);
      assert.equal(await store.openWindow('key:other', 'main', 'writes-need-review', T0 + MIN), undefined);
      assert.equal(await store.openWindow('key:agent', 'crm', 'writes-need-review', T0 + MIN), undefined);
      assert.equal(await store.openWindow('key:agent', 'main', 'another-rule', T0 + MIN), undefined);
      assert.equal(await store.openWindow('key:agent', 'main', 'writes-need-review', T0 + 10 * MIN), undefined);
      // A statement-scope grant is not a window.
      await approved(store, { fingerprint: 'fp-s', rule: 'statement-rule' });
      assert.equal(await store.openWindow('key:agent', 'main', 'statement-rule', T0 + MIN), undefined);
    }));

  test(`${name}: pending requests past their expiry are found, and expire once`, () =>
    withStore(target, async (store, open) => {
      const due = request({ expiresMs: T0 + MIN });
      const later = request({ expiresMs: T0 + 10 * MIN });
      const decided = request({ expiresMs: T0 + MIN });
      for (const r of [due, later, decided]) await store.insert(r);
      await store.transition(decided.id, 'pending', 'approved', T0 + 1000, T0 + 5 * MIN);
      assert.deepEqual(
        (await store.expiredPending(T0 + MIN)).map((r) => r.id),
        [due.id],
      );
      const other = open();
      const both = await Promise.all([store.transition(due.id, 'pending', 'expired', T0 + MIN), other.transition(due.id, 'pending', 'expired', T0 + MIN)]);
      assert.deepEqual(both.sort(), [false, true]);
      assert.deepEqual(await store.expiredPending(T0 + MIN), []);
      assert.equal((await store.get(due.id))?.status, 'expired');
    }));

  test(`${name}: requests survive a restart; held ones of this gateway are then abandoned, nothing else`, async () => {
    const loc = await target.fresh();
    const mineHeld = request({ mode: 'hold', gateway: 'gw-1', fingerprint: 'fp-h1' });
    const mineReturn = request({ mode: 'return', gateway: 'gw-1', fingerprint: 'fp-r1' });
    const mineDecided = request({ mode: 'hold', gateway: 'gw-1', fingerprint: 'fp-h2' });
    const othersHeld = request({ mode: 'hold', gateway: 'gw-2', fingerprint: 'fp-h3' });
    const before = loc.open();
    for (const r of [mineHeld, mineReturn, mineDecided, othersHeld]) await before.insert(r);
    await before.vote(mineReturn.id, { voter: 'alice', vote: 'approve', comment: 'fine', timeMs: T0 + 500 });
    await before.transition(mineDecided.id, 'pending', 'denied', T0 + 1000);
    await before.close();

    const after = loc.open();
    try {
      assert.equal((await after.list(undefined, 100)).length, 4);
      assert.deepEqual(await after.abandonHeld('gw-1', T0 + MIN), [mineHeld.id]);
      const held = (await after.get(mineHeld.id))!;
      assert.equal(held.status, 'abandoned');
      assert.equal(held.decidedAt, new Date(T0 + MIN).toISOString());
      assert.equal((await after.get(mineReturn.id))?.status, 'pending');
      assert.equal((await after.get(mineReturn.id))?.votes[0]?.comment, 'fine');
      assert.equal((await after.get(mineDecided.id))?.status, 'denied');
      assert.equal((await after.get(othersHeld.id))?.status, 'pending');
      assert.deepEqual(await after.abandonHeld('gw-1', T0 + 2 * MIN), []);
    } finally {
      await after.close();
    }
  });
}
