import { createHmac } from 'node:crypto';
import type { Logger } from 'pino';
import type { ApprovalRequest } from './request.js';
import type { WebhookConfig } from './schema.js';
import { summaryText } from './summary.js';

export type ApprovalEvent = 'approval.requested' | 'approval.approved' | 'approval.denied' | 'approval.expired';

/**
 * Signs `<timestamp>.<body>` with HMAC-SHA256, as `X-Portcullis-Signature: sha256=<hex>` next to
 * `X-Portcullis-Timestamp`: the receiver recomputes it over the raw body and rejects old
 * timestamps, so a captured delivery cannot be replayed later.
 */
export function signature(secret: string, timestamp: string, body: string): string {
  return 'sha256=' + createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex');
}

/**
 * Delivers approval events to the configured webhooks, in the background: a slow or broken
 * receiver never delays a decision. The URL is not logged (Slack's carries its secret), only
 * its host.
 */
export class WebhookNotifier {
  readonly #hooks: readonly WebhookConfig[];
  readonly #log: Logger;
  readonly #pending = new Set<Promise<void>>();

  constructor(hooks: readonly WebhookConfig[], log: Logger) {
    this.#hooks = hooks;
    this.#log = log;
  }

  notify(event: ApprovalEvent, request: ApprovalRequest, link: string): void {
    for (const h of this.#hooks) {
      const p = this.#deliver(h, event, request, link).finally(() => this.#pending.delete(p));
      this.#pending.add(p);
    }
  }

  /** Waits for deliveries under way (shutdown, tests). */
  async settle(): Promise<void> {
    await Promise.all([...this.#pending]);
  }

  async #deliver(h: WebhookConfig, event: ApprovalEvent, r: ApprovalRequest, link: string): Promise<void> {
    const body = JSON.stringify(h.format === 'slack' ? slackBody(event, r, link) : { event, request: publicView(r), url: link });
    const timestamp = String(Math.floor(Date.now() / 1000));
    const headers: Record<string, string> = { 'content-type': 'application/json', 'user-agent': 'portcullis-approvals', 'x-portcullis-event': event, 'x-portcullis-timestamp': timestamp };
    if (h.secret) headers['x-portcullis-signature'] = signature(h.secret.reveal(), timestamp, body);
    const host = new URL(h.url).host;
    try {
      const res = await fetch(h.url, { method: 'POST', headers, body, signal: AbortSignal.timeout(h.timeout), redirect: 'error' });
      await res.arrayBuffer().catch(() => undefined);
      if (!res.ok) this.#log.warn({ host, status: res.status, event, request: r.id }, 'approval webhook refused the delivery');
    } catch (e) {
      this.#log.warn({ host, event, request: r.id, err: e instanceof Error ? e.name : 'error' }, 'approval webhook could not be delivered');
    }
  }
}

/** What the API and webhooks show of a request: everything but the grant's binding digest. */
export function publicView(r: ApprovalRequest): Omit<ApprovalRequest, 'fingerprint'> {
  const { fingerprint: _f, ...rest } = r;
  return rest;
}

function slackBody(event: ApprovalEvent, r: ApprovalRequest, link: string): { text: string } {
  if (event === 'approval.requested') return { text: summaryText(r.id, r.summary, `Review: <${link}|${r.id}>`) };
  const by = r.votes.map((v) => `${v.voter} (${v.vote}${v.comment ? `: ${v.comment}` : ''})`).join(', ');
  return { text: `Request <${link}|${r.id}> for ${r.summary.who.subject} under rule "${r.rule}" is ${r.status}${by ? ` — ${by}` : ''}.` };
}
