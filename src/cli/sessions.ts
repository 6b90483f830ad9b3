import { Command, Option } from 'commander';
import { openStore } from '../audit/open-store.js';
import { AuditQuery, type SessionSummary } from '../audit/query.js';
import { replaySession } from '../audit/replay.js';
import { auditConfigOf } from '../audit/schema.js';
import { PortcullisError } from '../errors/portcullis-error.js';

/** Where the commands write, how they end and how replay waits; tests pass their own. */
export interface AuditCliIo {
  out(text: string): void;
  err(text: string): void;
  exit(code: number): void;
  sleep?(ms: number): Promise<void>;
}

export const processIo: AuditCliIo = {
  out: (t) => void process.stdout.write(t),
  err: (t) => void process.stderr.write(t),
  exit: (code) => {
    process.exitCode = code;
  },
};

/**
 * `portcullis sessions list|show|replay`: read the audit store the config names (read-only;
 * safe while the gateway runs).
 *
 * @example
 * portcullis sessions list -c portcullis.yaml --user alice --decision deny --since 2025-03-01
 * portcullis sessions replay -c portcullis.yaml 6f1c… --speed 4
 */
export function sessionsCommand(loadConfig: (path: string) => object, io: AuditCliIo = processIo): Command {
  const cmd = new Command('sessions').description('list, show and replay recorded sessions');
  const open = (path: string) => {
    const store = openStore(auditConfigOf(loadConfig(path), path), { readOnly: true });
    return { store, query: new AuditQuery(store) };
  };

  cmd
    .command('list')
    .description('recorded sessions, newest first')
    .requiredOption('-c, --config <file>', 'configuration file (YAML)')
    .option('--user <subject>', 'only this principal')
    .option('--since <time>', 'started at or after (ISO date/time)')
    .option('--connection <name>', 'only this connection')
    .addOption(new Option('--decision <action>', 'only sessions with a statement decided so').choices(['allow', 'deny', 'review']))
    .option('--limit <n>', 'at most this many', (v) => Number.parseInt(v, 10), 50)
    .option('--json', 'JSON lines instead of a table')
    .action(async (opts: { config: string; user?: string; since?: string; connection?: string; decision?: 'allow' | 'deny' | 'review'; limit: number; json?: boolean }) => {
      const { store, query } = open(opts.config);
      try {
        const since = opts.since === undefined ? undefined : parseTime(opts.since, '--since');
        const page = await query.listSessions({ user: opts.user, since, connection: opts.connection, decision: opts.decision }, { limit: opts.limit });
        if (opts.json) for (const s of page.items) io.out(`${JSON.stringify(s)}\n`);
        else io.out(sessionTable(page.items));
        io.exit(0);
      } finally {
        await store.close();
      }
    });

  cmd
    .command('show')
    .description('one session: who, from where, every statement with its decision and result')
    .requiredOption('-c, --config <file>', 'configuration file (YAML)')
    .option('--json', 'the session as JSON')
    .argument('<id>', 'session id')
    .action(async (id: string, opts: { config: string; json?: boolean }) => {
      const { store, query } = open(opts.config);
      try {
        const d = await query.getSession(id, { limit: 10_000 });
        if (!d) return notFound(io, id);
        if (opts.json) io.out(`${JSON.stringify(d, null, 2)}\n`);
        else await replaySession(d, { speed: 0, write: io.out });
        io.exit(0);
      } finally {
        await store.close();
      }
    });

  cmd
    .command('replay')
    .description('play a session back in the terminal as it happened')
    .requiredOption('-c, --config <file>', 'configuration file (YAML)')
    .option('--speed <n>', 'playback speed; 0 = no delays', (v) => Number.parseFloat(v), 1)
    .option('--max-gap <seconds>', 'shorten idle pauses to at most this', (v) => Number.parseFloat(v), 5)
    .argument('<id>', 'session id')
    .action(async (id: string, opts: { config: string; speed: number; maxGap: number }) => {
      if (!(opts.speed >= 0)) throw new PortcullisError('ERR_CONFIG_INVALID', '--speed must be 0 or a positive number');
      const { store, query } = open(opts.config);
      try {
        const d = await query.getSession(id, { limit: 10_000 });
        if (!d) return notFound(io, id);
        await replaySession(d, { speed: opts.speed, maxGapMs: opts.maxGap * 1000, write: io.out, ...(io.sleep ? { sleep: io.sleep } : {}) });
        io.exit(0);
      } finally {
        await store.close();
      }
    });

  return cmd;
}

function notFound(io: AuditCliIo, id: string): void {
  io.err(`no recorded session ${id}\n`);
  io.exit(1);
}

export function parseTime(v: string, flag: string): number {
  const ms = Date.parse(v);
  if (!Number.isFinite(ms)) throw new PortcullisError('ERR_CONFIG_INVALID', `${flag}: not a date/time: ${v} (use e.g. 2025-03-01 or 2025-03-01T12:00:00Z)`);
  return ms;
}

function sessionTable(items: readonly SessionSummary[]): string {
  if (items.length === 0) return 'no sessions\n';
  const head = ['id', 'started', 'subject', 'connection', 'frontend', 'statements', 'refused', 'ended'];
  const rows = items.map((s) => [s.id, s.startedAt, s.subject, s.connection, s.frontend, String(s.statements), String(s.refused), s.endReason ?? 'open']);
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (r: readonly string[]) => `${r.map((c, i) => c.padEnd(widths[i]!)).join('  ')}`.trimEnd();
  return `${[line(head), ...rows.map(line)].join('\n')}\n`;
}
