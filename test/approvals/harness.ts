/**
 * Shared pieces of the approvals end-to-end tests: a reviewer's HTTP calls and a wait for the
 * request a held or refused statement opened.
 */
import assert from 'node:assert/strict';
import type { TestGateway } from '../helpers/gateway.js';

export interface RequestJson {
  id: string;
  status: string;
  sql: string;
  votes: { voter: string; vote: string; comment: string | null }[];
  requester: { subject: string; groups: string[]; client: string; application_name: string | null };
  facts: { kind: string; tables: string[]; risks: string[] };
  rule: string;
  estimated_rows: number | null;
  mode: string;
}

export async function api(gw: TestGateway, key: string, path: string, body?: unknown): Promise<{ status: number; json: any }> {
  const res = await fetch(`${gw.httpUrl}${path}`, {
    method: body === undefined ? 'GET' : 'POST',
    headers: { authorization: `Bearer ${gw.keys[key]}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return { status: res.status, json: await res.json() };
}

export function vote(gw: TestGateway, key: string, id: string, how: 'approve' | 'deny', comment?: string) {
  return api(gw, key, `/api/approvals/${id}/${how}`, comment === undefined ? {} : { comment });
}

/** The pending request for this SQL, as a reviewer in `dba` sees it; polls until it appears. */
export async function pendingFor(gw: TestGateway, reviewer: string, sql: string, timeoutMs = 10_000): Promise<RequestJson> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const r = await api(gw, reviewer, '/api/approvals?status=pending');
    assert.equal(r.status, 200);
    const found = (r.json.approvals as RequestJson[]).find((a) => a.sql === sql);
    if (found) return found;
    if (Date.now() > until) assert.fail(`no pending request for ${sql}`);
    await new Promise((res) => setTimeout(res, 50));
  }
}

export const UUID = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/;
