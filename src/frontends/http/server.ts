import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import { PortcullisError, isPortcullisError } from '../../errors/portcullis-error.js';
import type { FrontendName } from '../../pipeline/principal.js';
import type { McpConfig } from '../mcp/mcp-config.js';
import type { MaskedColumnsHook } from '../mcp/catalog.js';
import { serveMcpPost } from '../mcp/http-endpoint.js';
import { METADATA_PATH, metadataUrl, resourceMetadata } from '../mcp/resource-metadata.js';
import { authenticateBearer, bearerChallenge, type Authenticated } from './bearer-auth.js';
import { errorBodyOf, sendError, sendJson } from './json-response.js';
import { openApiDocument } from './openapi.js';
import { publicBaseUrl } from './public-url.js';
import { handleConnections, handleQuery } from './query-api.js';
import { readJsonBody } from './request-body.js';
import type { DriverDeps } from './run-statement.js';
import { APPROVALS_PATH, serveApprovals, type ApprovalsBackend } from './approvals-api.js';
import { SESSIONS_PATH, serveSessions, type SessionsApiOptions } from './sessions-api.js';
import { HttpListener } from '../../util/http-listener.js';
import type { ConsoleApp } from '../../web/console-app.js';
import { isConsolePath } from './console-mount.js';

export interface HttpFrontendOptions extends DriverDeps {
  readonly host: string;
  readonly port: number;
  readonly tls?: { readonly cert: string; readonly key: string } | undefined;
  readonly allowInsecureLoopback: boolean;
  readonly maxConnections: number;
  readonly logger: Logger;
  readonly version: string;
  readonly mcp: McpConfig;
  /** OIDC issuers, named as authorization servers in the resource metadata. */
  readonly issuers: readonly string[];
  readonly scopes: readonly string[];
  readonly maskedColumns?: MaskedColumnsHook | undefined;
  /** Largest request body accepted, in bytes. */
  readonly bodyLimit?: number | undefined;
  /** Time a client has to send a whole request. */
  readonly requestTimeoutMs?: number | undefined;
  /** Longest a statement may run for one HTTP request before it is cancelled upstream. */
  readonly statementDeadlineMs?: number | undefined;
  /** Present when approvals are configured: mounts /api/approvals. */
  readonly approvals?: ApprovalsBackend | undefined;
  /** Present when recording is on: mounts /api/v1/sessions. */
  readonly sessions?: SessionsApiOptions | undefined;
  /** Present when `console:` is configured: mounts /console/. */
  readonly console?: ConsoleApp | undefined;
}

const DEFAULT_BODY_LIMIT = 1024 * 1024;
const DEFAULT_REQUEST_TIMEOUT_MS = 30_000;
const DEFAULT_STATEMENT_DEADLINE_MS = 5 * 60_000;

interface Exchange {
  readonly req: IncomingMessage;
  readonly res: ServerResponse;
  readonly path: string;
  readonly base: string;
  /** Aborted when the client goes away or the statement deadline passes. */
  readonly signal: AbortSignal;
}

/**
 * The HTTP listener: the JSON query API under `/api/v1`, its OpenAPI document, MCP at `/mcp`
 * with its OAuth resource metadata, and `/healthz`. No framework: a handful of fixed routes.
 */
export class HttpFrontend {
  readonly #o: HttpFrontendOptions;
  readonly #listener: HttpListener;
  readonly #tls: boolean;

  constructor(o: HttpFrontendOptions) {
    this.#o = o;
    this.#listener = new HttpListener(
      { tls: o.tls, requestTimeoutMs: o.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS, headersTimeoutMs: 10_000, maxConnections: o.maxConnections, logger: o.logger, name: 'http' },
      (req, res) => void this.#handle(req, res),
    );
    this.#tls = this.#listener.tls;
  }

  listen(): Promise<{ host: string; port: number }> {
    return this.#listener.listen(this.#o.port, this.#o.host);
  }

  close(): Promise<void> {
    return this.#listener.close();
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const gone = new AbortController();
    res.once('close', () => {
      if (!res.writableFinished) gone.abort();
    });
    const signal = AbortSignal.any([gone.signal, AbortSignal.timeout(this.#o.statementDeadlineMs ?? DEFAULT_STATEMENT_DEADLINE_MS)]);
    const path = (req.url ?? '/').split('?')[0]!;
    const x: Exchange = { req, res, path, base: publicBaseUrl(req, this.#tls, this.#o.mcp.public_url), signal };
    try {
      await this.#route(x, req.method ?? 'GET');
    } catch (e) {
      if (!isPortcullisError(e)) this.#o.logger.error({ err: e instanceof Error ? e.message : String(e), path }, 'http request failed');
      const { status, body } = errorBodyOf(e);
      // A body cut off for size is still arriving; the connection cannot be reused.
      sendJson(res, status, body, status === 413 ? { connection: 'close' } : {});
    }
  }

  async #route(x: Exchange, method: string): Promise<void> {
    const o = this.#o;
    switch (x.path) {
      case '/healthz':
        if (!allow(x, method, ['GET', 'HEAD'])) return;
        sendJson(x.res, 200, { status: 'ok', version: o.version });
        return;
      case '/api/openapi.json':
        if (!allow(x, method, ['GET', 'HEAD'])) return;
        sendJson(x.res, 200, openApiDocument(x.base, o.version, { approvals: o.approvals !== undefined, sessions: o.sessions !== undefined }));
        return;
      case METADATA_PATH:
      case `${METADATA_PATH}/mcp`:
        if (!allow(x, method, ['GET', 'HEAD'])) return;
        sendJson(x.res, 200, resourceMetadata({ base: x.base, resourcePath: x.path === METADATA_PATH ? '' : '/mcp', issuers: o.issuers, scopes: o.scopes }), { 'access-control-allow-origin': '*' });
        return;
      case '/api/v1/connections': {
        if (!allow(x, method, ['GET'])) return;
        if (await this.#authenticate(x, 'http', '')) handleConnections(x.res, o);
        return;
      }
      case '/api/v1/query': {
        if (!allow(x, method, ['POST'])) return;
        const auth = await this.#authenticate(x, 'http', '');
        if (!auth) return;
        const body = await readJsonBody(x.req, o.bodyLimit ?? DEFAULT_BODY_LIMIT);
        await handleQuery(x.res, o, auth, body, x.signal, () => bearerChallenge(metadataUrl(x.base, '')));
        return;
      }
      case '/mcp': {
        // Stateless: there is no server-initiated stream to GET and no session to DELETE.
        if (!allow(x, method, ['POST'])) return;
        if (!this.#sameOrigin(x)) return;
        const auth = await this.#authenticate(x, 'mcp', '/mcp');
        if (!auth) return;
        const body = await readJsonBody(x.req, o.bodyLimit ?? DEFAULT_BODY_LIMIT);
        await serveMcpPost(x.req, x.res, body, { deps: o, principal: auth.principal, client: auth.client, config: o.mcp, logger: o.logger, version: o.version, maskedColumns: o.maskedColumns });
        return;
      }
      default:
        if (o.console && isConsolePath(x.path)) return o.console.handle({ req: x.req, res: x.res, path: x.path, method, base: x.base, tls: this.#tls });
        if (o.approvals && (x.path === APPROVALS_PATH || x.path.startsWith(`${APPROVALS_PATH}/`))) return serveApprovals(x.req, x.res, x.path, method, o.approvals, () => this.#authenticate(x, 'http', ''), o.bodyLimit ?? DEFAULT_BODY_LIMIT);
        if (o.sessions && (x.path === SESSIONS_PATH || x.path.startsWith(`${SESSIONS_PATH}/`))) return serveSessions(x.req, x.res, x.path, method, o.sessions, () => this.#authenticate(x, 'http', ''));
        sendError(x.res, 'ERR_NOT_FOUND', `no endpoint ${x.path}; see ${x.base}/api/openapi.json`);
    }
  }

  /** Sends the 401/403/503 itself and resolves undefined when the caller is not identified. */
  async #authenticate(x: Exchange, frontend: FrontendName, resourcePath: '' | '/mcp'): Promise<Authenticated | undefined> {
    try {
      return await authenticateBearer(x.req, frontend, { pipeline: this.#o.pipeline, tls: this.#tls, allowInsecureLoopback: this.#o.allowInsecureLoopback, logger: this.#o.logger });
    } catch (e) {
      const err = isPortcullisError(e) ? e : new PortcullisError('ERR_AUTH_FAILED');
      const headers: Record<string, string> = err.httpStatus === 401 ? { 'www-authenticate': bearerChallenge(metadataUrl(x.base, resourcePath), err) } : {};
      sendError(x.res, err.code, err.message, { headers });
      return undefined;
    }
  }

  /**
   * Browsers send Origin; a page on another site must not drive a local gateway through the
   * user's browser (DNS rebinding), as the MCP transport spec requires servers to check.
   */
  #sameOrigin(x: Exchange): boolean {
    const origin = x.req.headers.origin;
    if (origin === undefined || origin === new URL(x.base).origin) return true;
    sendError(x.res, 'ERR_PROTOCOL_VIOLATION', `requests from origin ${JSON.stringify(origin.slice(0, 100))} are not accepted`, { status: 403 });
    return false;
  }
}

function allow(x: Exchange, method: string, methods: readonly string[]): boolean {
  if (methods.includes(method)) return true;
  sendError(x.res, 'ERR_PROTOCOL_VIOLATION', `${x.path} accepts ${methods.join(', ')}`, { status: 405, headers: { allow: methods.join(', ') } });
  return false;
}
