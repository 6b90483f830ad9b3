import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { validateConfig } from '../config/load.js';
import { Secret } from '../config/secret.js';
import { startGateway } from '../main.js';
import { createLogger } from '../util/logger.js';

/**
 * `portcullis demo`: the gateway in front of an embedded PostgreSQL (PGlite) seeded with
 * realistic customer, order, payment and employee data, with two ready-made service keys.
 */
export async function runDemo(opts: { port: number; dataDir?: string | undefined }): Promise<void> {
  const analystKey = 'pcs_' + randomBytes(32).toString('base64url');
  const adminKey = 'pcs_' + randomBytes(32).toString('base64url');
  const config = validateConfig(
    {
      listen: { postgres: { host: '127.0.0.1', port: opts.port } },
      connections: { demo: { type: 'embedded', seed: 'demo', ...(opts.dataDir ? { data_dir: opts.dataDir } : {}) } },
      identities: {
        keys: [
          { name: 'demo-analyst', groups: ['analysts'], secret: new Secret(analystKey, 'generated') },
          { name: 'demo-admin', groups: ['dba'], secret: new Secret(adminKey, 'generated') },
        ],
      },
      security: { allow_insecure_loopback: true },
      audit: { store: `sqlite:${join(mkdtempSync(join(tmpdir(), 'portcullis-demo-')), 'audit.db')}` },
      policy: {
        preset: 'read-only',
        rules: [{ name: 'dba-may-write', who: { groups: ['dba'] }, what: { kinds: ['read', 'write', 'tcl', 'session'] }, action: 'allow' }],
      },
    },
    'demo config',
  );
  const logger = createLogger(process.env.PORTCULLIS_LOG_LEVEL ?? 'warn');
  process.stdout.write('Starting the embedded demo database and the gateway…\n');
  const gw = await startGateway(config, logger);
  const pg = gw.listening.find((l) => l.frontend === 'postgres')!;
  const url = (user: string) => `postgresql://${user}@${pg.host}:${pg.port}/demo?sslmode=disable`;
  process.stdout.write(
    [
      '',
      `Portcullis demo is running. PostgreSQL protocol on ${pg.host}:${pg.port}, connection "demo".`,
      '',
      'Connect as an analyst (read-only: SELECTs pass, writes and DDL are refused):',
      `  PGPASSWORD='${analystKey}' psql "${url('analyst')}"`,
      '',
      'Connect as a DBA (reads and writes allowed, DDL and other risky statements refused):',
      `  PGPASSWORD='${adminKey}' psql "${url('dba')}"`,
      '',
      'Try:  SELECT full_name, email, ssn FROM customers LIMIT 5;',
      '      DELETE FROM orders;            -- refused for the analyst, with the rule that refused it',
      '      DROP TABLE customers;          -- refused for everyone',
      '',
      'These keys are generated for this run only. Press Ctrl-C to stop.',
      '',
    ].join('\n'),
  );
  await new Promise<void>((resolve) => {
    const stop = () => resolve();
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
  process.stdout.write('\nStopping…\n');
  await gw.stop();
  process.stdout.write('Stopped.\n');
}
