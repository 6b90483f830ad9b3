import { createServer, type Server, type Socket } from 'node:net';
import { createSecureContext, type SecureContext } from 'node:tls';
import { readFileSync } from 'node:fs';
import type { Logger } from 'pino';
import { MessageWriter } from '../../codecs/pgwire/writer.js';
import { listenOn } from '../../util/listen.js';
import { isLoopbackAddress } from '../../util/loopback-address.js';
import {
  AUTH_CLEARTEXT,
  AUTH_OK,
  GSSENC_REFUSE,
  SSL_ACCEPT,
  SSL_REFUSE,
  writeBackendKeyData,
  writeErrorResponse,
  writeNegotiateProtocolVersion,
  writeParameterStatus,
  writeReadyForQuery,
} from '../../codecs/pgwire/backend-messages.js';
import { ProtocolError } from '../../codecs/pgwire/body-reader.js';
import type { Connector, WireUpstream } from '../../connectors/connector.js';
import { PortcullisError, isPortcullisError } from '../../errors/portcullis-error.js';
import type { Pipeline, PipelineSession } from '../../pipeline/pipeline.js';
import type { ClientInfo } from '../../pipeline/principal.js';
import { CancelKeys } from './cancel-keys.js';
import { HandshakeReader } from './handshake.js';
import { PgRelay } from './relay.js';
import { WireMasking } from './wire-masking.js';
import type { MaskingEngine } from '../../masking/index.js';
import { errorFields, fieldsFromError } from './wire-errors.js';
import { clientEncodingAccepted, forwardableParameters } from './startup-parameters.js';
import { applicationNameFor } from '../../pipeline/application-name.js';

export interface PgwireServerOptions {
  host: string;
  port: number;
  tls?: { cert: string; key: string } | undefined;
  pipeline: Pipeline;
  /** Connections by name: the client's database name selects one. */
  connections: ReadonlyMap<string, Connector>;
  allowInsecureLoopback: boolean;
  maxConnections: number;
  maxMessageBytes: number;
  startupTimeoutMs: number;
  logger: Logger;
  /** Enabled masking engine, or undefined when no masking is configured. */
  masking?: MaskingEngine | undefined;
}

/**
 * The PostgreSQL frontend: a protocol 3.0 server that authenticates clients with their
 * Portcullis credential, picks the connection named by the database, opens an upstream session
 * with the gateway's own credential and relays statements through the pipeline.
 */
export class PgwireServer {
  readonly #o: PgwireServerOptions;
  readonly #server: Server;
  readonly #cancelKeys = new CancelKeys();
  readonly #sockets = new Set<Socket>();
  #tls: SecureContext | undefined;

  constructor(o: PgwireServerOptions) {
    this.#o = o;
    if (o.tls) this.#tls = createSecureContext({ cert: readFileSync(o.tls.cert), key: readFileSync(o.tls.key), minVersion: 'TLSv1.2' });
    this.#server = createServer({ noDelay: true, keepAlive: true }, (s) => this.#accept(s));
    this.#server.on('error', (e) => o.logger.error({ err: e.message }, 'pgwire listener error'));
  }

  /** Re-reads the certificate files (for rotation). */
  reloadTls(): void {
    const t = this.#o.tls;
    if (t) this.#tls = createSecureContext({ cert: readFileSync(t.cert), key: readFileSync(t.key), minVersion: 'TLSv1.2' });
  }

  listen(): Promise<{ host: string; port: number }> {
    return listenOn(this.#server, this.#o.port, this.#o.host);
  }

  get connectionCount(): number {
    return this.#sockets.size;
  }

  async close(): Promise<void> {
    const closed = new Promise<void>((resolve) => this.#server.close(() => resolve()));
    for (const s of this.#sockets) s.destroy();
    await closed;
  }

  #accept(socket: Socket): void {
    socket.setNoDelay(true);
    if (this.#sockets.size >= this.#o.maxConnections) {
      // Answer in protocol so the client shows a real reason, whatever it sends first.
      socket.end(writeErrorResponse(new MessageWriter(), errorFields('ERR_TOO_MANY_CONNECTIONS', 'sorry, too many clients already', 'FATAL')).take());
      return;
    }
    this.#sockets.add(socket);
    socket.once('close', () => this.#sockets.delete(socket));
    socket.on('error', () => {});
    this.#handshake(socket).catch((e: unknown) => this.#o.logger.error({ err: (e as Error).message }, 'unexpected handshake failure'));
  }

  async #handshake(raw: Socket): Promise<void> {
    const o = this.#o;
    const reader = new HandshakeReader(raw);
    const w = new MessageWriter(512);
    const timer = setTimeout(() => {
      reader.socket.destroy();
    }, o.startupTimeoutMs);
    let session: PipelineSession | undefined;
    let upstream: WireUpstream | undefined;
    let tls = false;
    const address = raw.remoteAddress ?? 'unknown';
    const fatal = (e: unknown): void => {
      const f = fieldsFromError(e, 'FATAL');
      if (!reader.socket.destroyed) reader.socket.end(writeErrorResponse(w, f).take());
    };
    try {
      let packet = await reader.readStartupPacket();
      // SSL and GSS encryption requests may each come once, before the StartupMessage.
      for (let rounds = 0; packet.type === 'ssl' || packet.type === 'gssenc'; rounds++) {
        if (rounds >= 2) throw new ProtocolError('too many encryption requests');
        if (packet.type === 'gssenc') {
          reader.socket.write(GSSENC_REFUSE);
        } else if (this.#tls && !tls) {
          // Bytes sent before the TLS handshake could be injected by a man in the middle (CVE-2021-23214).
          if (reader.hasBufferedBytes) throw new ProtocolError('unencrypted data after SSL request');
          reader.socket.write(SSL_ACCEPT);
          await reader.upgradeToTls(this.#tls, o.startupTimeoutMs);
          tls = true;
        } else {
          reader.socket.write(SSL_REFUSE);
        }
        packet = await reader.readStartupPacket();
      }
      if (packet.type === 'cancel') {
        // No reply is sent for a cancel request, matched or not, as the protocol specifies.
        const matched = this.#cancelKeys.cancel(packet.pid, packet.secret);
        o.logger.debug({ matched }, 'cancel request');
        reader.socket.end();
        return;
      }
      if (packet.type !== 'startup') throw new ProtocolError('unexpected startup packet');
      if (packet.major !== 3) throw new PortcullisError('ERR_UNSUPPORTED_PROTOCOL', `unsupported frontend protocol ${packet.major}.${packet.minor}: server supports 3.0`);
      const params = packet.params;
      if (packet.minor > 0 || [...params.keys()].some((k) => k.startsWith('_pq_.'))) {
        const unsupported = [...params.keys()].filter((k) => k.startsWith('_pq_.'));
        reader.socket.write(writeNegotiateProtocolVersion(w, 0, unsupported).take());
        for (const k of unsupported) params.delete(k);
      }
      const user = params.get('user');
      if (!user) throw new PortcullisError('ERR_AUTH_REQUIRED', 'no PostgreSQL user name specified in startup packet');
      if (params.has('replication') && params.get('replication') !== 'false' && params.get('replication') !== '0') {
        throw new PortcullisError('ERR_UNSUPPORTED_PROTOCOL', 'replication connections are not supported through Portcullis');
      }
      const encoding = params.get('client_encoding');
      if (encoding !== undefined && !clientEncodingAccepted(encoding)) {
        throw new PortcullisError('ERR_UNSUPPORTED_PROTOCOL', `client_encoding "${encoding.slice(0, 40)}" is not supported: Portcullis analyzes SQL as UTF-8, and in other encodings the server could read the same bytes as different statements; connect with client_encoding=UTF8`);
      }
      if (params.has('options') && params.get('options')!.trim() !== '') {
        throw new PortcullisError('ERR_UNSUPPORTED_PROTOCOL', 'the startup "options" parameter would change server settings without analysis; set them with SQL instead');
      }
      const loopback = isLoopbackAddress(address);
      if (!tls && !(loopback && o.allowInsecureLoopback)) {
        throw new PortcullisError(
          'ERR_AUTH_INSECURE_TRANSPORT',
          this.#tls ? 'connect with TLS (sslmode=require or verify-full): passwords are not accepted in cleartext' : 'this listener accepts cleartext passwords only from loopback with security.allow_insecure_loopback; configure listen.postgres.tls',
        );
      }
      reader.socket.write(AUTH_CLEARTEXT);
      const credential = await reader.readPassword();
      const client: ClientInfo = { address, frontend: 'pgwire', userName: user, applicationName: params.get('application_name'), tls };
      let principal;
      try {
        principal = await o.pipeline.identify(credential, client);
      } catch (e) {
        o.logger.info({ user, address, code: isPortcullisError(e) ? e.code : 'error', reason: isPortcullisError(e) ? e.detail : undefined }, 'authentication failed');
        if (isPortcullisError(e) && e.code === 'ERR_IDP_UNAVAILABLE') throw e;
        // PostgreSQL's own wording, and no detail: a prober learns nothing about why.
        throw new PortcullisError('ERR_AUTH_FAILED', `password authentication failed for user "${user}"`);
      }
      const dbName = params.get('database') || user;
      const connector = o.connections.get(dbName);
      if (!connector || !connector.openWire) throw new PortcullisError('ERR_UNKNOWN_CONNECTION', `database "${dbName}" does not exist`);
      session = o.pipeline.openSession(principal, client, dbName);
      // The catalog must be in hand before the first result, or lineage would be blind.
      const masking = o.masking ? await WireMasking.open(o.masking, connector, principal.groups) : undefined;
      const parameters = forwardableParameters(params);
      // Policy lets only plain reads through for this principal: PostgreSQL then refuses what
      // the analyzer cannot see into (a function or view that writes). A startup setting is
      // what RESET ALL and DISCARD ALL return to; turning it off is session tampering, refused.
      if (session.readOnly) parameters.set('default_transaction_read_only', 'on');
      upstream = await connector.openWire({
        applicationName: applicationNameFor(principal.subject, client.applicationName),
        parameters,
      });
      clearTimeout(timer);

      w.bytes(AUTH_OK);
      for (const [k, v] of upstream.parameters) writeParameterStatus(w, k, v);
      const key = this.#cancelKeys.issue({ cancelUpstream: () => relay.cancelUpstream() });
      writeBackendKeyData(w, key.pid, key.secret);
      writeReadyForQuery(w, 0x49);
      const sock = reader.socket;
      const early = reader.detach();
      sock.write(w.take());
      const relay: PgRelay = new PgRelay({
        client: sock,
        upstream,
        session,
        maxMessageBytes: o.maxMessageBytes,
        logger: o.logger,
        masking,
        onClose: () => this.#cancelKeys.release(key.pid),
      });
      // A client may pipeline its first query right behind the password.
      if (early.length > 0) sock.unshift(early);
      o.logger.info({ session: session.id, subject: principal.subject, connection: dbName, address, tls }, 'session started');
    } catch (e) {
      clearTimeout(timer);
      session?.close('startup-failed');
      (upstream?.socket as Socket | undefined)?.destroy();
      if (e instanceof ProtocolError) fatal(new PortcullisError('ERR_PROTOCOL_VIOLATION', `protocol violation: ${e.message}`));
      else fatal(e);
      if (!isPortcullisError(e) && !(e instanceof ProtocolError)) o.logger.error({ err: (e as Error).message }, 'startup failed');
    }
  }
}
