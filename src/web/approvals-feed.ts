import type { ServerResponse } from 'node:http';
import type { ApprovalRequest } from '../approvals/request.js';
import type { ApprovalsBackend } from '../frontends/http/approvals-api.js';
import { requestJson } from '../frontends/http/approvals-api.js';

interface Subscriber {
  readonly res: ServerResponse;
  readonly visible: (r: ApprovalRequest) => boolean;
  readonly alive: () => boolean;
  last: string;
}

const POLL_MS = 500;
const HEARTBEAT_MS = 15_000;
const LIMIT = 200;

/**
 * The approvals queue as server-sent events. The engine has no change subscription, so one
 * timer reads the store while anyone is watching and each viewer is sent their slice only when
 * it changed. An SSE comment every 15 s keeps proxies from closing an idle stream.
 */
export class ApprovalsFeed {
  readonly #backend: ApprovalsBackend;
  readonly #subs = new Set<Subscriber>();
  #timer: NodeJS.Timeout | undefined;
  #beat = 0;
  #reading = false;

  constructor(backend: ApprovalsBackend) {
    this.#backend = backend;
  }

  subscribe(res: ServerResponse, visible: (r: ApprovalRequest) => boolean, alive: () => boolean): void {
    res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-store', 'x-content-type-options': 'nosniff', connection: 'keep-alive' });
    res.write('retry: 2000\n\n');
    const sub: Subscriber = { res, visible, alive, last: '' };
    this.#subs.add(sub);
    res.once('close', () => {
      this.#subs.delete(sub);
      if (this.#subs.size === 0) this.#stop();
    });
    // A tick may answer first; its newer snapshot then wins over this one.
    this.#backend.list(undefined, LIMIT).then(
      (all) => {
        if (this.#subs.has(sub) && sub.last === '') this.#push(sub, all);
      },
      () => undefined,
    );
    this.#timer ??= setInterval(() => void this.#tick(), POLL_MS);
    this.#timer.unref();
  }

  async #tick(): Promise<void> {
    // A slow store must not pile up reads: a tick still reading makes the next one a no-op.
    if (this.#reading) return;
    this.#reading = true;
    let all: ApprovalRequest[] | undefined;
    try {
      all = await this.#backend.list(undefined, LIMIT);
    } catch {
      // The store is down: viewers keep the last queue they were sent, and still get heartbeats.
    } finally {
      this.#reading = false;
    }
    const beat = ++this.#beat % Math.round(HEARTBEAT_MS / POLL_MS) === 0;
    for (const s of this.#subs) {
      // A signed-out or expired viewer stops receiving at once.
      if (!s.alive()) {
        s.res.end();
        continue;
      }
      if (all) this.#push(s, all);
      if (beat) s.res.write(': keep-alive\n\n');
    }
  }

  #push(s: Subscriber, all: readonly ApprovalRequest[]): void {
    const data = JSON.stringify(all.filter(s.visible).map(requestJson));
    if (data === s.last) return;
    s.last = data;
    s.res.write(`event: approvals\ndata: ${data}\n\n`);
  }

  #stop(): void {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = undefined;
  }
}
