/**
 * Starts a real Portcullis gateway in-process in front of a test PostgreSQL, with a fresh
 * service key per gateway. Config goes through the same validation as a YAML file.
 */
import { randomBytes } from 'node:crypto';
import { spawn, type ChildProcess } from 'node:child_process';
import { writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { validateConfig } from '../../src/config/load.js';
import { Secret } from '../../src/config/secret.js';
import { startGateway, type Gateway } from '../../src/main.js';
import { silentLogger } from '../../src/util/logger.js';
import type { Logger } from 'pino';
import type { PgCluster } from './pg-cluster.js';
import { freePort } from './net.js';

export interface TestGateway {
  readonly host: string;
  readonly port: number;
  /** Service keys by name. */
  readonly keys: Record<string, string>;
  /** `http(s)://127.0.0.1:PORT` of the HTTP listener, when started with `http: true`. */
  readonly httpUrl: string | undefined;
  readonly gateway: Gateway;
  /** libpq URL for a connection name (the upstream "main" by default), without password. */
  url(db?: string, user?: string): string;
  /** node-postgres client config (pg lets a connection string's absent password win over `password`). */
  pgConfig(keyName?: string, db?: string): { host: string; port: number; user: string; database: string; password: string };
  /** Environment for psql/pgbench: PGPASSWORD is the given key (default the first). */
  env(keyName?: string): NodeJS.ProcessEnv;
  stop(): Promise<void>;
}

export function newKey(): string {
  return 'pcs_' + randomBytes(32).toString('base64url');
}

export interface TestGatewayOptions {
  /** Keys to create: name → groups. Default `{ tester: ['testers'] }`. */
  keys?: Record<string, string[]>;
  policy?: Record<string, unknown>;
  /** Merged over the generated config at the top level. */
  extra?: Record<string, unknown>;
  listenTls?: { cert: string; key: string };
  /** Merged into `identities:` beside the generated keys (e.g. `oidc: […]`). */
  identities?: Record<string, unknown>;
  /** Defaults to a silent logger; tests that grep the log pass their own. */
  logger?: Logger;
  /** Also serve `listen.http` (query API and MCP) on a free loopback port. */
  http?: boolean;
}

export function gatewayConfig(upstream: PgCluster, o: TestGatewayOptions, keys: Record<string, string>, port = 0): Record<string, unknown> {
  return {
    listen: {
      postgres: { host: '127.0.0.1', port, ...(o.listenTls ? { tls: o.listenTls } : {}) },
      ...(o.http ? { http: { host: '127.0.0.1', port: 0, ...(o.listenTls ? { tls: o.listenTls } : {}) } } : {}),
    },
    connections: {
      main: { type: 'postgres', url: `postgres://postgres@127.0.0.1:${upstream.port}/postgres`, ...(upstream.auth === 'trust' ? {} : { password: upstream.password }) },
    },
    identities: { keys: Object.entries(o.keys ?? { tester: ['testers'] }).map(([name, groups]) => ({ name, groups, secret: new Secret(keys[name]!, 'test') })), ...o.identities },
    security: { allow_insecure_loopback: true },
    policy: o.policy ?? { preset: 'audit-only' },
    // Every test gateway records, into its own throwaway store.
    audit: { store: `sqlite:${join(mkdtempSync(join(tmpdir(), 'portcullis-audit-')), 'audit.db')}` },
    ...o.extra,
  };
}

export async function startTestGateway(upstream: PgCluster, o: TestGatewayOptions = {}): Promise<TestGateway> {
  const keys: Record<string, string> = {};
  for (const name of Object.keys(o.keys ?? { tester: [] })) keys[name] = newKey();
  const config = validateConfig(gatewayConfig(upstream, o, keys), 'test config');
  const gateway = await startGateway(config, o.logger ?? silentLogger);
  const pg = gateway.listening.find((l) => l.frontend === 'postgres')!;
  const first = Object.keys(keys)[0]!;
  const http = gateway.listening.find((l) => l.frontend === 'http');
  return {
    host: pg.host,
    port: pg.port,
    keys,
    httpUrl: http ? `${o.listenTls ? 'https' : 'http'}://127.0.0.1:${http.port}` : undefined,
    gateway,
    url: (db = 'main', user = 'agent') => `postgresql://${user}@127.0.0.1:${pg.port}/${db}?sslmode=disable`,
    pgConfig: (keyName = first, db = 'main') => ({ host: '127.0.0.1', port: pg.port, user: 'agent', database: db, password: keys[keyName]! }),
    env: (keyName = first) => ({ ...process.env, PGPASSWORD: keys[keyName], PGCONNECT_TIMEOUT: '10' }),
    stop: () => gateway.stop(),
  };
}

/** The gateway as its own process (`portcullis serve`), for tests that measure or kill it. */
export async function spawnGateway(upstream: PgCluster, o: TestGatewayOptions = {}): Promise<{ port: number; key: string; child: ChildProcess; stop(): Promise<void> }> {
  const key = newKey();
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'portcullis-gw-'));
  const cfg = gatewayConfig(upstream, { ...o, keys: { tester: ['testers'] } }, { tester: key }, port);
  // Secrets go through the environment, as in production.
  (cfg.identities as { keys: { secret: unknown }[] }).keys[0]!.secret = '${env:TEST_KEY}';
  writeFileSync(join(dir, 'portcullis.yaml'), JSON.stringify(cfg));
  const child = spawn(process.execPath, [join(import.meta.dirname, '../../bin/portcullis.js'), 'serve', '--config', join(dir, 'portcullis.yaml')], {
    env: { ...process.env, TEST_KEY: key, PORTCULLIS_LOG_LEVEL: 'warn' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  await new Promise<void>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`gateway did not start: ${stderr}`)), 20000);
    child.stderr!.on('data', () => {
      if (stderr.includes('listening on')) {
        clearTimeout(t);
        resolve();
      }
    });
    child.once('exit', (code) => {
      clearTimeout(t);
      reject(new Error(`gateway exited with ${code}: ${stderr}`));
    });
  });
  return {
    port,
    key,
    child,
    stop: async () => {
      if (child.exitCode !== null) return;
      child.kill('SIGTERM');
      await new Promise((r) => child.once('exit', r));
    },
  };
}
