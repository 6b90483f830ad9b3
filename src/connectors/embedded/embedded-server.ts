import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { randomInt } from 'node:crypto';
import { PGlite } from '@electric-sql/pglite';
import { Be } from '../../codecs/pgwire/message-codes.js';
import { MessageWriter } from '../../codecs/pgwire/writer.js';
import { buildDemoData, DEMO_SEED } from './demo-data.js';
import { SessionGate } from './session-gate.js';
import { EMBEDDED_DATABASE, EMBEDDED_ROLE, EmbeddedWireSession, type WireSessionContext } from './wire-session.js';

/** Loopback only: the server performs no authentication, so nothing off-host may reach it. */
const HOST = '127.0.0.1';

export interface EmbeddedServerOptions {
  /** `demo` loads the demo shop into an empty database; `empty` leaves it as initdb made it. */
  readonly seed?: 'demo' | 'empty';
  /** Persist the database in this directory; in memory when absent. */
  readonly dataDir?: string;
  /** TCP port on 127.0.0.1; 0 (the default) picks a free one. */
  readonly port?: number;
  /** PRNG seed for the demo data. */
  readonly demoSeed?: number;
  /**
   * How long one session may keep the single backend while idle (inside a transaction, or
   * between an extended-query message and its Sync) when other sessions are waiting, before
   * it is terminated with SQLSTATE 25P03. 0 disables the limit. Default 60 000 ms.
   */
  readonly idleHolderTimeoutMs?: number;
}

export interface EmbeddedServer {
  readonly host: string;
  readonly port: number;
  /** Runs `fn` with exclusive use of the PGlite instance, between client sessions' transactions. */
  exclusive<T>(fn: (db: PGlite) => Promise<T>): Promise<T>;
  /** Open sessions, and how many of them are waiting for the backend. */
  stats(): { sessions: number; waiting: number };
  /** Milliseconds spent booting PGlite and loading the seed (0 when nothing was loaded). */
  readonly timings: { readonly bootMs: number; readonly seedMs: number };
  /** Closes client connections (rolling back their transactions), the listener and PGlite. */
  stop(): Promise<void>;
}

/**
 * Starts PGlite (PostgreSQL compiled to WebAssembly, in this process) and serves it over the
 * PostgreSQL protocol on 127.0.0.1, so real drivers, psql and the gateway's own upstream code
 * can connect to it like to any PostgreSQL server.
 *
 * Several clients may be connected at once. PGlite has a single backend, so sessions take
 * turns: a session owns the backend from its first message until the backend is idle again
 * (ReadyForQuery 'I'). Statements of different sessions never interleave inside a transaction
 * or an extended-query batch; named prepared statements are kept per session; session settings
 * (SET), temporary tables and SQL-level PREPARE are shared, as they live in the one backend.
 *
 * @example
 * const server = await startEmbeddedServer({ seed: 'demo' });
 * // psql -h 127.0.0.1 -p ${server.port} -U postgres postgres
 * await server.stop();
 */
export async function startEmbeddedServer(options: EmbeddedServerOptions = {}): Promise<EmbeddedServer> {
  const port = options.port ?? 0;
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new TypeError('port must be an integer in 0..65535');
  const t0 = performance.now();
  const db = await PGlite.create(options.dataDir === undefined ? {} : { dataDir: options.dataDir });
  const bootMs = performance.now() - t0;
  const gate = new SessionGate();

  let seedMs = 0;
  try {
    if ((options.seed ?? 'demo') === 'demo') {
      const t1 = performance.now();
      // A persisted data directory keeps its data: seed only a database that has no shop yet.
      const existing = await db.query<{ present: boolean }>("SELECT to_regclass('public.customers') IS NOT NULL AS present");
      if (existing.rows[0]?.present !== true) {
        await db.exec(buildDemoData(options.demoSeed ?? DEMO_SEED).sql);
        seedMs = performance.now() - t1;
      }
    }
  } catch (err) {
    await db.close().catch(() => {});
    throw err;
  }

  const ctx: WireSessionContext = {
    db,
    gate,
    parameters: await reportedParameters(db),
    idleHolderTimeoutMs: options.idleHolderTimeoutMs ?? 60_000,
  };
  const sessions = new Set<EmbeddedWireSession>();
  let nextPid = 1000 + randomInt(1000);
  const server: Server = createServer((socket: Socket) => {
    const session = new EmbeddedWireSession(socket, ctx, nextPid++, randomInt(-0x8000_0000, 0x7fff_ffff));
    sessions.add(session);
    void session.closed.then(() => sessions.delete(session));
  });
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, HOST, () => {
        server.off('error', reject);
        resolve();
      });
    });
  } catch (err) {
    await db.close().catch(() => {});
    throw err;
  }

  let stopping: Promise<void> | undefined;
  return {
    host: HOST,
    port: (server.address() as AddressInfo).port,
    timings: { bootMs, seedMs },
    exclusive: (fn) => gate.run(() => fn(db)),
    stats: () => ({ sessions: sessions.size, waiting: gate.waiting }),
    stop() {
      stopping ??= (async () => {
        const closed = new Promise<void>((resolve) => server.close(() => resolve()));
        const all = [...sessions];
        for (const s of all) s.close();
        await Promise.all(all.map((s) => s.closed));
        await closed;
        await gate.run(() => db.close());
      })();
      return stopping;
    },
  };
}

/**
 * Runs PGlite's own startup once and keeps the ParameterStatus values it reports, so each
 * client can be greeted with them without touching the shared backend.
 */
async function reportedParameters(db: PGlite): Promise<Map<string, string>> {
  const w = new MessageWriter(128);
  w.begin(0).int32(196608).cstring('user').cstring(EMBEDDED_ROLE).cstring('database').cstring(EMBEDDED_DATABASE).int8(0).end();
  const packet = w.take();
  const chunks: Buffer[] = [];
  await db.execProtocolRawStream(new Uint8Array(packet.buffer, packet.byteOffset, packet.length), {
    onRawData: (d: Uint8Array) => chunks.push(Buffer.from(d)),
  });
  const out = Buffer.concat(chunks);
  const params = new Map<string, string>();
  for (let at = 0; at + 5 <= out.length; ) {
    const len = out.readInt32BE(at + 1);
    if (out[at] === Be.ParameterStatus) {
      const nameEnd = out.indexOf(0, at + 5);
      const valueEnd = out.indexOf(0, nameEnd + 1);
      params.set(out.toString('utf8', at + 5, nameEnd), out.toString('utf8', nameEnd + 1, valueEnd));
    }
    at += 1 + len;
  }
  if (params.size === 0) throw new Error('PGlite reported no parameters at startup');
  return params;
}
