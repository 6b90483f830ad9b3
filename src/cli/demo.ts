import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { validateConfig } from '../config/load.js';
import { Secret } from '../config/secret.js';
import { startGateway } from '../main.js';
import { createLogger } from '../util/logger.js';

/**
 * `portcullis demo`: the gateway in front of an embedded PostgreSQL (PGlite) seeded with
 * realistic customer, order, payment and employee data, with two ready-made service keys; and
 * a Snowflake endpoint over the DuckDB-backed emulator holding the same data.
 */
export async function runDemo(opts: { port: number; httpPort?: number | undefined; snowflakePort?: number | undefined; dataDir?: string | undefined }): Promise<void> {
  // The warehouse side of the demo: the DuckDB-backed Snowflake emulator with the same shop,
  // reached by the gateway's snowflake-sdk connector with a key pair only the gateway holds.
  process.env.SNOWFLAKE_DISABLE_PLATFORM_DETECTION = 'true';
  const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048, publicKeyEncoding: { type: 'spki', format: 'pem' }, privateKeyEncoding: { type: 'pkcs8', format: 'pem' } });
  // Loaded here, not at the top: DuckDB's native library has no business in `portcullis serve`.
  const { startSnowflakeEmulator } = await import('../dev/snowflake-emulator/index.js');
  const emulator = await startSnowflakeEmulator({ seed: 'demo', users: { PORTCULLIS_SVC: { publicKeyPem: publicKey } } });
  const analystKey = 'pcs_' + randomBytes(32).toString('base64url');
  const adminKey = 'pcs_' + randomBytes(32).toString('base64url');
  const config = validateConfig(
    {
      listen: {
        postgres: { host: '127.0.0.1', port: opts.port },
        http: { host: '127.0.0.1', port: opts.httpPort ?? (opts.port === 0 ? 0 : opts.port + 1648) },
        snowflake: { host: '127.0.0.1', port: opts.snowflakePort ?? (opts.port === 0 ? 0 : opts.port + 2011) },
      },
      connections: {
        demo: { type: 'embedded', seed: 'demo', ...(opts.dataDir ? { data_dir: opts.dataDir } : {}) },
        warehouse: { type: 'snowflake', account: 'emulator', url: emulator.url, user: 'PORTCULLIS_SVC', private_key: new Secret(privateKey, 'generated'), database: 'DEMO', schema: 'PUBLIC', warehouse: 'COMPUTE_WH' },
      },
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
        rules: [
          {
            name: 'no-destructive',
            what: { risks: ['destructive', 'privilege', 'file-access'] },
            action: 'deny',
            reason: 'destructive, privilege and file-access statements are not allowed through the demo gateway',
          },
          { name: 'dba-may-write', who: { groups: ['dba'] }, what: { kinds: ['read', 'write', 'tcl', 'session'] }, action: 'allow' },
          // An analyst's write waits for a DBA: held in the session on psql, queued for agents.
          {
            name: 'analyst-writes-need-review',
            who: { groups: ['analysts'] },
            what: { kinds: ['write'] },
            action: 'review',
            review: { approvers: ['dba'], timeout: '300s' },
          },
          { name: 'analysts-read', who: { groups: ['analysts'] }, what: { kinds: ['read'] }, action: 'allow', max_rows: 1000 },
        ],
      },
      approvals: {},
      // The demo has no identity provider: the console offers a name-and-groups form (loopback only).
      console: { dev_sign_in: true, reviewers: ['dba'], auditors: ['dba', 'auditors'], admins: ['dba'] },
      // PII is masked for everyone but the DBA group, whatever the query does to it.
      masking: {
        hash_key: new Secret(randomBytes(32).toString('base64url'), 'generated'),
        detectors: ['card', 'ssn', 'email', 'phone', 'iban', 'aws_key', 'private_key', 'jwt'],
        columns: [
          { match: 'public.customers.ssn', strategy: 'partial', keep_last: 4, groups: { dba: { strategy: 'clear' } } },
          { match: 'public.customers.card_number', strategy: 'partial', keep_last: 4, groups: { dba: { strategy: 'clear' } } },
          { match: 'public.payments.card_number', strategy: 'partial', keep_last: 4, groups: { dba: { strategy: 'clear' } } },
          { match: '*.*.email', strategy: 'hash', groups: { dba: { strategy: 'clear' } } },
          { match: 'public.customers.phone', strategy: 'redact', groups: { dba: { strategy: 'clear' } } },
          { match: 'public.employees.salary', strategy: 'null', groups: { dba: { strategy: 'clear' } } },
        ],
      },
    },
    'demo config',
  );
  const logger = createLogger(process.env.PORTCULLIS_LOG_LEVEL ?? 'warn');
  process.stdout.write('Starting the embedded demo database and the gateway…\n');
  const gw = await startGateway(config, logger);
  const pg = gw.listening.find((l) => l.frontend === 'postgres')!;
  const http = gw.listening.find((l) => l.frontend === 'http');
  const sf = gw.listening.find((l) => l.frontend === 'snowflake');
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
      'Try:  SELECT full_name, email, ssn, card_number FROM customers LIMIT 5;   -- masked for the analyst',
      "      SELECT upper(ssn) || '' AS x FROM customers LIMIT 3;                  -- still masked: lineage",
      "      UPDATE orders SET status = 'cancelled' WHERE id = 1;   -- as the analyst: waits for a DBA's approval",
      '      DROP TABLE customers;          -- refused for everyone',
      '',
      ...(http
        ? [
            `Web console (reviewers approve, auditors replay): http://${http.host}:${http.port}/console/  — dev sign-in: any name, group "dba"`,
            'Or approve a held statement as the DBA over the API (the analyst\'s psql shows the request id):',
            `  curl -s http://${http.host}:${http.port}/api/approvals?status=pending -H "Authorization: Bearer ${adminKey}"`,
            `  curl -s -X POST http://${http.host}:${http.port}/api/approvals/REQUEST_ID/approve -H "Authorization: Bearer ${adminKey}" \\`,
            `       -H 'content-type: application/json' -d '{"comment":"ok"}'`,
            '',
          ]
        : []),
      ...(http
        ? [
            `MCP for AI agents (Streamable HTTP) at http://${http.host}:${http.port}/mcp — e.g. Claude Code:`,
            `  claude mcp add --transport http portcullis http://${http.host}:${http.port}/mcp --header "Authorization: Bearer ${analystKey}"`,
            'HTTP query API:',
            `  curl -s http://${http.host}:${http.port}/api/v1/query -H "Authorization: Bearer ${analystKey}" -H 'content-type: application/json' \\`,
            `       -d '{"connection":"demo","sql":"SELECT full_name, ssn FROM customers LIMIT 3"}'`,
            '',
          ]
        : []),
      ...(sf
        ? [
            `Snowflake driver protocol on http://${sf.host}:${sf.port}, connection "warehouse" (a DuckDB-backed Snowflake emulator with the same shop; a development tool, never a production upstream). With snowflake-sdk:`,
            `  SNOWFLAKE_DISABLE_PLATFORM_DETECTION=true node --input-type=module -e "`,
            `    const sf = (await import('snowflake-sdk')).default;`,
            `    const c = sf.createConnection({ account: 'warehouse', accessUrl: 'http://${sf.host}:${sf.port}', username: 'analyst', password: '${analystKey}' });`,
            `    await new Promise((ok, no) => c.connect((e) => (e ? no(e) : ok())));`,
            `    c.execute({ sqlText: 'SELECT full_name, email, ssn FROM customers LIMIT 3', complete: (e, s, rows) => console.log(e?.message ?? rows) });"`,
            "  (COPY INTO @stage, PUT, DROP and GRANT are refused; ssn and email come back masked.)",
            '',
          ]
        : []),
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
  await emulator.close();
  process.stdout.write('Stopped.\n');
}
