import type { Logger } from 'pino';
import type { Connector } from '../../connectors/connector.js';
import { okEnvelope, type LoginRequest, type LoginResponseData, type SnowflakeParameter, type TokenResponseData } from '../../codecs/snowflake/messages.js';
import { PortcullisError, isPortcullisError } from '../../errors/portcullis-error.js';
import type { Pipeline } from '../../pipeline/pipeline.js';
import type { ClientInfo } from '../../pipeline/principal.js';
import { isLoopbackAddress } from '../../util/loopback-address.js';
import { chooseConnection } from './choose-connection.js';
import { checkClientParameters } from './client-parameters.js';
import type { SessionNames, SnowflakeSessions } from './sessions.js';
import { SF, driverFailureBody, failureOf, type SnowflakeFailure } from './wire-errors.js';

export interface LoginDeps {
  readonly pipeline: Pipeline;
  readonly connectors: ReadonlyMap<string, Connector>;
  readonly sessions: SnowflakeSessions;
  readonly tls: boolean;
  readonly allowInsecureLoopback: boolean;
  readonly logger: Logger;
  readonly parameters: readonly SnowflakeParameter[];
  readonly version: string;
}

/** Authenticators whose secret is a Portcullis credential, and the field that carries it. */
const CREDENTIAL_FIELD: Record<string, 'PASSWORD' | 'TOKEN'> = {
  SNOWFLAKE: 'PASSWORD',
  OAUTH: 'TOKEN',
  PROGRAMMATIC_ACCESS_TOKEN: 'TOKEN',
};

/**
 * `POST /session/v1/login-request`. The caller's own credential — an OIDC access token
 * (`AUTHENTICATOR: OAUTH`, `TOKEN`) or a Portcullis service key as the password — goes to
 * `pipeline.identify`; the connection comes from `ACCOUNT_NAME`; a `PipelineSession` is
 * opened for the Snowflake session's lifetime. The answer carries tokens the gateway made up
 * (see session-token.ts); a refusal says only that the credential was not accepted, as
 * Snowflake does, and the reason goes to the log.
 */
export async function handleLogin(deps: LoginDeps, address: string, body: LoginRequest, query: URLSearchParams): Promise<Record<string, unknown>> {
  const d = body.data;
  const authenticator = (d.AUTHENTICATOR ?? 'SNOWFLAKE').toUpperCase();
  try {
    if (!deps.tls && !(deps.allowInsecureLoopback && isLoopbackAddress(address))) {
      throw new PortcullisError('ERR_AUTH_INSECURE_TRANSPORT', 'this listener accepts credentials over plain HTTP only from loopback with security.allow_insecure_loopback; configure listen.snowflake.tls');
    }
    const field = CREDENTIAL_FIELD[authenticator];
    if (field === undefined) {
      return failure({ code: SF.BAD_REQUEST, sqlState: '28000', httpStatus: 400, message: `authenticator ${JSON.stringify(authenticator.slice(0, 40))} is not accepted by Portcullis: log in with AUTHENTICATOR OAUTH and your access token, or with a Portcullis service key as the password [ERR_AUTH_FAILED]` });
    }
    const credential = d[field];
    if (credential === undefined || credential === '') throw new PortcullisError('ERR_AUTH_REQUIRED', field === 'TOKEN' ? 'send your access token as the OAuth token' : 'send a Portcullis service key as the password');
    checkClientParameters(d.SESSION_PARAMETERS, 'login');
    const connector = chooseConnection(deps.connectors, [d.ACCOUNT_NAME], 'account');
    deps.sessions.checkCapacity();

    const appId = d.CLIENT_APP_ID?.slice(0, 40);
    const client: ClientInfo = {
      address,
      frontend: 'snowflake',
      tls: deps.tls,
      ...(d.LOGIN_NAME ? { userName: d.LOGIN_NAME.slice(0, 128) } : {}),
      ...(appId ? { applicationName: `${appId}${d.CLIENT_APP_VERSION ? ` ${d.CLIENT_APP_VERSION.slice(0, 20)}` : ''}` } : {}),
    };
    let principal;
    try {
      principal = await deps.pipeline.identify(credential, client);
    } catch (e) {
      deps.logger.info({ address, frontend: 'snowflake', authenticator, code: isPortcullisError(e) ? e.code : 'error', reason: isPortcullisError(e) ? e.detail : undefined }, 'authentication failed');
      if (isPortcullisError(e) && e.code === 'ERR_IDP_UNAVAILABLE') throw e;
      return failure(
        field === 'TOKEN'
          ? { code: SF.OAUTH_TOKEN_INVALID, sqlState: '08004', httpStatus: 401, message: 'Invalid OAuth access token (unknown, expired or revoked); obtain a fresh token and log in again. [ERR_AUTH_FAILED]' }
          : { code: SF.LOGIN_FAILED, sqlState: '08004', httpStatus: 401, message: 'Incorrect username or password was specified. [ERR_AUTH_FAILED]' },
      );
    }
    const names: SessionNames = {
      databaseName: param(query, 'databaseName') ?? connector.name,
      schemaName: param(query, 'schemaName'),
      warehouseName: param(query, 'warehouse'),
      roleName: param(query, 'roleName'),
    };
    const pipelineSession = deps.pipeline.openSession(principal, client, connector.name);
    const { session, tokens } = deps.sessions.open(pipelineSession, connector, names);
    deps.logger.info({ session: pipelineSession.id, subject: principal.subject, connection: connector.name, address, tls: deps.tls, authenticator }, 'snowflake session started');
    const data: LoginResponseData & Record<string, unknown> = {
      token: tokens.token,
      masterToken: tokens.masterToken,
      validityInSeconds: tokens.validityInSeconds,
      masterValidityInSeconds: tokens.masterValidityInSeconds,
      sessionId: session.sessionId,
      parameters: deps.parameters,
      sessionInfo: {
        databaseName: names.databaseName ?? null,
        schemaName: names.schemaName ?? null,
        warehouseName: names.warehouseName ?? null,
        roleName: names.roleName ?? null,
      },
      displayUserName: principal.subject,
      serverVersion: `Portcullis ${deps.version}`,
      firstLogin: false,
      healthCheckInterval: 45,
      newClientForUpgrade: null,
      idToken: null,
      mfaToken: null,
    };
    return { ...okEnvelope(data) };
  } catch (e) {
    const f = failureOf(e);
    // Refusals before the credential was checked keep their own words; none carries a credential.
    return failure(isPortcullisError(e) && e.code === 'ERR_UNKNOWN_CONNECTION' ? { ...f, code: SF.NO_SUCH_DATABASE } : f);
  }
}

/** `POST /session/token-request` with the master token: a fresh session token (and master token). */
export function handleTokenRequest(sessions: SnowflakeSessions, masterToken: string | undefined): Record<string, unknown> {
  const r = sessions.renew(masterToken);
  if ('failure' in r) return failure(r.failure);
  const data: TokenResponseData = {
    sessionToken: r.tokens.token,
    validityInSecondsST: r.tokens.validityInSeconds,
    masterToken: r.tokens.masterToken,
    validityInSecondsMT: r.tokens.masterValidityInSeconds,
    sessionId: r.session.sessionId,
  };
  return { ...okEnvelope(data) };
}

function failure(f: SnowflakeFailure): Record<string, unknown> {
  return driverFailureBody(f);
}

function param(query: URLSearchParams, name: string): string | undefined {
  const v = query.get(name);
  return v === null || v === '' ? undefined : v.slice(0, 255);
}
