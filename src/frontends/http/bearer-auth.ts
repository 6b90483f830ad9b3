import type { IncomingMessage } from 'node:http';
import type { Logger } from 'pino';
import { PortcullisError, isPortcullisError } from '../../errors/portcullis-error.js';
import type { Pipeline } from '../../pipeline/pipeline.js';
import type { ClientInfo, FrontendName, Principal } from '../../pipeline/principal.js';
import { isLoopbackAddress } from '../../util/loopback-address.js';

export interface BearerAuthOptions {
  readonly pipeline: Pipeline;
  readonly tls: boolean;
  readonly allowInsecureLoopback: boolean;
  readonly logger: Logger;
}

export interface Authenticated {
  readonly principal: Principal;
  readonly client: ClientInfo;
}

/**
 * `Authorization: Bearer <OIDC access token or service key>` → identify. The credential is
 * never logged or echoed; failures say only that it was not accepted (the reason goes to the
 * log), as the pgwire frontend does.
 *
 * A bearer credential over plain HTTP is as exposed as a cleartext password, so the pgwire
 * rule applies: TLS, or loopback with `security.allow_insecure_loopback`.
 */
export async function authenticateBearer(req: IncomingMessage, frontend: FrontendName, o: BearerAuthOptions): Promise<Authenticated> {
  const address = req.socket.remoteAddress ?? 'unknown';
  if (!o.tls && !(o.allowInsecureLoopback && isLoopbackAddress(address))) {
    throw new PortcullisError(
      'ERR_AUTH_INSECURE_TRANSPORT',
      'this listener accepts bearer credentials over plain HTTP only from loopback with security.allow_insecure_loopback; configure listen.http.tls',
    );
  }
  const header = req.headers.authorization;
  if (header === undefined || header.trim() === '') throw new PortcullisError('ERR_AUTH_REQUIRED', 'send Authorization: Bearer <access token or service key>');
  const m = /^Bearer +([A-Za-z0-9\-._~+/]+=*) *$/i.exec(header);
  if (!m) throw new PortcullisError('ERR_AUTH_REQUIRED', 'the Authorization header must use the Bearer scheme: Authorization: Bearer <access token or service key>');
  const agent = req.headers['user-agent'];
  const client: ClientInfo = { address, frontend, tls: o.tls, ...(agent ? { applicationName: agent.slice(0, 64) } : {}) };
  try {
    return { principal: await o.pipeline.identify(m[1]!, client), client };
  } catch (e) {
    o.logger.info({ address, frontend, code: isPortcullisError(e) ? e.code : 'error', reason: isPortcullisError(e) ? e.detail : undefined }, 'authentication failed');
    if (isPortcullisError(e) && e.code === 'ERR_IDP_UNAVAILABLE') throw e;
    throw new PortcullisError('ERR_AUTH_FAILED', 'the bearer credential was not accepted (unknown, expired or revoked); obtain a fresh token and retry');
  }
}

/** RFC 6750 §3 challenge, with the RFC 9728 pointer MCP clients use to find the authorization server. */
export function bearerChallenge(resourceMetadataUrl: string, e?: PortcullisError): string {
  let h = `Bearer resource_metadata="${resourceMetadataUrl}"`;
  if (e?.code === 'ERR_AUTH_FAILED' || e?.code === 'ERR_TOKEN_EXPIRED') h += ', error="invalid_token", error_description="the access token is invalid or expired"';
  return h;
}
