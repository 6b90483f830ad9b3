import { Command } from 'commander';
import { stringify } from 'yaml';
import { generateServiceKey, hashServiceKey, KEY_PATTERN } from '../identity/service-keys.js';

/** Where the commands write and read; tests pass their own. */
export interface KeysIo {
  out(text: string): void;
  readStdin(): Promise<string>;
}

const processIo: KeysIo = {
  out: (t) => void process.stdout.write(t),
  async readStdin() {
    const chunks: Buffer[] = [];
    for await (const c of process.stdin) chunks.push(Buffer.isBuffer(c) ? c : Buffer.from(String(c)));
    return Buffer.concat(chunks).toString('utf8');
  },
};

const NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$/;

/**
 * `portcullis keys create|hash`: service keys for non-human callers without an IdP.
 *
 * @example
 * portcullis keys create --name ci-bot --groups analysts --expires 2027-01-01
 * printf %s "$KEY" | portcullis keys hash
 */
export function keysCommand(io: KeysIo = processIo): Command {
  const keys = new Command('keys').description('create and hash service keys (identities.keys)');

  keys
    .command('create')
    .description('make a new service key; prints it once and the config entry holding only its hash')
    .requiredOption('--name <name>', 'key name; the principal becomes key:<name>')
    .option('--groups <list>', 'comma-separated groups', '')
    .option('--expires <date>', 'ISO date or date-time after which the key is refused')
    .action(function (this: Command, opts: { name: string; groups: string; expires?: string }) {
      if (!NAME.test(opts.name)) this.error('error: --name must be 1-63 of A-Z a-z 0-9 _ . - and start with a letter or digit', { exitCode: 2 });
      const groups = opts.groups
        .split(',')
        .map((g) => g.trim())
        .filter((g) => g !== '');
      let expires: Date | undefined;
      if (opts.expires !== undefined) {
        expires = new Date(opts.expires);
        if (Number.isNaN(expires.getTime())) this.error('error: --expires must be a date such as 2027-01-01', { exitCode: 2 });
        if (expires.getTime() <= Date.now()) this.error('error: --expires is in the past', { exitCode: 2 });
      }
      const key = generateServiceKey();
      const entry: Record<string, unknown> = { name: opts.name, groups, hash: hashServiceKey(key) };
      if (expires) entry['expires'] = expires.toISOString();
      io.out(
        [
          `Service key for ${opts.name} — shown only this once; give it to the caller now:`,
          '',
          `  ${key}`,
          '',
          'Add this under identities.keys in the gateway config (it holds only the hash):',
          '',
          indent(stringify([entry], { flowCollectionPadding: false }).trimEnd(), 4),
          '',
          `Revoke later with "revoked: true" on the entry. Callers present the key as the password (PostgreSQL) or as "Authorization: Bearer <key>" (HTTP, MCP).`,
          '',
        ].join('\n'),
      );
    });

  keys
    .command('hash')
    .description('read a service key from stdin and print the hash to put in identities.keys')
    .action(async function (this: Command) {
      const key = (await io.readStdin()).replace(/\r?\n$/, '');
      // Never echo the input: it may be a real key with a typo.
      if (!KEY_PATTERN.test(key)) this.error('error: stdin is not a service key (expected pcs_ followed by 43 base64url characters)', { exitCode: 2 });
      io.out(`${hashServiceKey(key)}\n`);
    });

  return keys;
}

function indent(text: string, n: number): string {
  const pad = ' '.repeat(n);
  return text
    .split('\n')
    .map((l) => pad + l)
    .join('\n');
}
