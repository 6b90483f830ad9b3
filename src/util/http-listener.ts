import { readFileSync } from 'node:fs';
import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { Socket } from 'node:net';
import type { Logger } from 'pino';
import { listenOn } from './listen.js';

export interface HttpListenerOptions {
  /** PEM files; plain HTTP when absent. */
  readonly tls?: { readonly cert: string; readonly key: string } | undefined;
  /** Time a client has to send a whole request. */
  readonly requestTimeoutMs: number;
  /** Time a client has to send its headers (capped by the request timeout). */
  readonly headersTimeoutMs: number;
  readonly maxConnections: number;
  readonly logger: Logger;
  /** Names the listener in its log lines. */
  readonly name: string;
}

/**
 * The HTTP(S) server every HTTP-speaking frontend stands on (the query API and MCP, the
 * Snowflake driver protocol): TLS 1.2 or later, slow senders cut off by deadlines that are
 * checked every second (Node checks every 30 s by default, so a slowloris would outlive them),
 * malformed requests answered 400 without reaching a handler, a connection cap, and a close
 * that does not wait for idle keep-alive sockets.
 */
export class HttpListener {
  readonly server: Server;
  readonly tls: boolean;
  readonly #sockets = new Set<Socket>();

  constructor(o: HttpListenerOptions, handler: (req: IncomingMessage, res: ServerResponse) => void) {
    this.tls = o.tls !== undefined;
    const timeouts = {
      requestTimeout: o.requestTimeoutMs,
      headersTimeout: Math.min(o.requestTimeoutMs, o.headersTimeoutMs),
      connectionsCheckingInterval: Math.min(1000, o.requestTimeoutMs),
    };
    this.server = o.tls ? createHttpsServer({ ...timeouts, cert: readFileSync(o.tls.cert), key: readFileSync(o.tls.key), minVersion: 'TLSv1.2' }, handler) : createHttpServer(timeouts, handler);
    this.server.keepAliveTimeout = 5_000;
    this.server.maxConnections = o.maxConnections;
    this.server.on('connection', (s: Socket) => {
      this.#sockets.add(s);
      s.once('close', () => this.#sockets.delete(s));
    });
    this.server.on('clientError', (_e, socket) => {
      if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nconnection: close\r\ncontent-length: 0\r\n\r\n');
      else socket.destroy();
    });
    this.server.on('error', (e) => o.logger.error({ err: e.message }, `${o.name} listener error`));
  }

  listen(port: number, host: string): Promise<{ host: string; port: number }> {
    return listenOn(this.server, port, host);
  }

  /** Stops accepting, lets `drain` finish what the frontend owns, then drops every socket. */
  async close(drain?: () => Promise<unknown>): Promise<void> {
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    await drain?.();
    for (const s of this.#sockets) s.destroy();
    await closed;
  }
}
