import { Command, Option } from 'commander';
import { readFileSync } from 'node:fs';
import { createPublicKey, type KeyObject } from 'node:crypto';
import { loadPublicKey } from '../audit/checkpoint.js';
import { exportEvents } from '../audit/export.js';
import { openStore } from '../audit/open-store.js';
import { auditConfigOf } from '../audit/schema.js';
import { verifyStore } from '../audit/verify.js';
import { PortcullisError } from '../errors/portcullis-error.js';
import { parseTime, processIo, type AuditCliIo } from './sessions.js';

/**
 * `portcullis audit verify|export`.
 *
 * @example
 * portcullis audit verify -c portcullis.yaml --public-key audit-ed25519.pub.pem   # exit 0 ok, 1 tampered
 * portcullis audit export -c portcullis.yaml --format jsonl --since 2025-03-01 > audit.jsonl
 */
export function auditCommand(loadConfig: (path: string) => object, io: AuditCliIo = processIo): Command {
  const cmd = new Command('audit').description('verify and export the audit log');

  cmd
    .command('verify')
    .description('check the hash chain and signed checkpoints; exit 0 intact, 1 tampered (each problem named by seq)')
    .requiredOption('-c, --config <file>', 'configuration file (YAML)')
    .option('--public-key <file>', 'Ed25519 public key (PEM) to check checkpoint signatures; default: derived from audit.signing_key')
    .option('--json', 'the report as JSON')
    .action(async (opts: { config: string; publicKey?: string; json?: boolean }) => {
      const config = auditConfigOf(loadConfig(opts.config), opts.config);
      let publicKey: KeyObject | undefined;
      if (opts.publicKey) {
        let pem: string;
        try {
          pem = readFileSync(opts.publicKey, 'utf8');
        } catch (e) {
          throw new PortcullisError('ERR_CONFIG_INVALID', `cannot read --public-key ${opts.publicKey} (${(e as NodeJS.ErrnoException).code ?? 'error'})`);
        }
        publicKey = loadPublicKey(pem, `--public-key ${opts.publicKey}`);
      } else if (config.signing_key) {
        publicKey = createPublicKey(loadPublicKey(config.signing_key.reveal(), `audit.signing_key (${config.signing_key.source})`));
      }
      const store = openStore(config, { readOnly: true });
      try {
        const r = await verifyStore(store, { publicKey, checkpointEvery: config.checkpoint_every });
        if (opts.json) io.out(`${JSON.stringify(r, null, 2)}\n`);
        else {
          const range = r.events ? `events ${r.firstSeq}–${r.lastSeq}` : 'no events';
          const from = r.anchor ? ` (from the retention anchor at seq ${r.anchor.seq})` : '';
          const sig = r.signaturesChecked ? `${r.signedCheckpoints} signed checkpoint${r.signedCheckpoints === 1 ? '' : 's'} verified` : `${r.checkpoints} checkpoints; signatures not checked (no key)`;
          for (const p of r.problems) io.out(`TAMPERED seq ${p.seq} [${p.kind}]: ${p.message}\n`);
          io.out(`${r.ok ? 'ok' : 'FAILED'}: ${store.location}: ${range}${from}; ${sig}\n`);
        }
        io.exit(r.ok ? 0 : 1);
      } finally {
        await store.close();
      }
    });

  cmd
    .command('export')
    .description('write events for a SIEM to stdout')
    .requiredOption('-c, --config <file>', 'configuration file (YAML)')
    .addOption(new Option('--format <format>', 'output format').choices(['jsonl', 'csv']).default('jsonl'))
    .option('--since <time>', 'only events at or after (ISO date/time)')
    .action(async (opts: { config: string; format: 'jsonl' | 'csv'; since?: string }) => {
      const store = openStore(auditConfigOf(loadConfig(opts.config), opts.config), { readOnly: true });
      try {
        const sinceMs = opts.since === undefined ? undefined : parseTime(opts.since, '--since');
        await exportEvents(store, { format: opts.format, ...(sinceMs !== undefined ? { sinceMs } : {}), write: io.out });
        io.exit(0);
      } finally {
        await store.close();
      }
    });

  return cmd;
}
