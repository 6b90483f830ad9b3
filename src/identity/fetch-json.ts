import { idpUnavailable } from './identity-error.js';
import { isAllowedEndpoint } from './loopback.js';

/** Discovery documents, key sets and introspection answers are small; anything bigger is refused. */
const MAX_BYTES = 512 * 1024;

export interface FetchJsonOptions {
  readonly timeoutMs: number;
  readonly allowHttp: boolean;
  readonly method?: 'GET' | 'POST';
  readonly headers?: Readonly<Record<string, string>>;
  readonly body?: string;
  /** Names the request in log reasons instead of the URL's query, which may be sensitive. */
  readonly what: string;
}

/**
 * One request to an identity provider, failing closed: any transport error, non-200 status,
 * redirect, oversize or non-JSON body becomes ERR_IDP_UNAVAILABLE. Redirects are not followed
 * because a redirect could lead from https to plain http, or off to another host.
 */
export async function fetchJson(url: URL, opts: FetchJsonOptions): Promise<Record<string, unknown>> {
  if (!isAllowedEndpoint(url, opts.allowHttp)) throw idpUnavailable(`${opts.what} ${url.origin}: refusing a non-https endpoint`);
  const where = `${opts.what} ${url.origin}${url.pathname}`;
  let res: Response;
  try {
    res = await fetch(url, {
      method: opts.method ?? 'GET',
      headers: { accept: 'application/json', ...opts.headers },
      body: opts.body,
      redirect: 'manual',
      signal: AbortSignal.timeout(opts.timeoutMs),
    });
  } catch (e) {
    const name = e instanceof Error ? e.name : 'Error';
    if (name === 'TimeoutError' || name === 'AbortError') throw idpUnavailable(`${where}: no answer within ${opts.timeoutMs} ms`);
    const code = (e as { cause?: { code?: unknown } }).cause?.code;
    throw idpUnavailable(`${where}: request failed${typeof code === 'string' ? ` (${code})` : ''}`);
  }
  try {
    if (res.status !== 200) throw idpUnavailable(`${where}: HTTP ${res.status}`);
    const text = await readCapped(res, where);
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      throw idpUnavailable(`${where}: answer is not JSON`);
    }
    if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) throw idpUnavailable(`${where}: answer is not a JSON object`);
    return parsed as Record<string, unknown>;
  } finally {
    // An unread body would hold the connection open.
    if (!res.bodyUsed) await res.body?.cancel().catch(() => {});
  }
}

async function readCapped(res: Response, where: string): Promise<string> {
  const declared = Number(res.headers.get('content-length'));
  if (declared > MAX_BYTES) throw idpUnavailable(`${where}: answer larger than ${MAX_BYTES} bytes`);
  if (!res.body) return '';
  const chunks: Uint8Array[] = [];
  let total = 0;
  const reader = res.body.getReader();
  for (;;) {
    const { done, value } = await reader.read().catch(() => {
      throw idpUnavailable(`${where}: connection lost while reading the answer`);
    });
    if (done) break;
    total += value.byteLength;
    if (total > MAX_BYTES) {
      await reader.cancel().catch(() => {});
      throw idpUnavailable(`${where}: answer larger than ${MAX_BYTES} bytes`);
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks).toString('utf8');
}
