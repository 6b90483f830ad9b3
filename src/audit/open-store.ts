import { PortcullisError } from '../errors/portcullis-error.js';
import { createSigner } from './checkpoint.js';
import { PostgresStore } from './postgres-store.js';
import type { AuditConfig } from './schema.js';
import { SqliteStore } from './sqlite-store.js';
import type { AuditStore } from './store.js';

export interface OpenStoreOptions {
  /** For the CLI: read without creating, migrating, recovering or writing (a SQLite store reads its journal's tail beside the tables). */
  readonly readOnly?: boolean;
  readonly now?: () => number;
  readonly onAsyncError?: (err: Error) => void;
}

/** The store `audit.store` names: `sqlite:PATH` or a postgres:// URL. */
export function openStore(config: AuditConfig, opts: OpenStoreOptions = {}): AuditStore {
  const target = typeof config.store === 'string' ? config.store : config.store.reveal();
  const common = {
    readOnly: opts.readOnly,
    checkpointEvery: config.checkpoint_every,
    checkpointIntervalMs: config.checkpoint_interval * 1000,
    // Readers never sign; they must not even need the private key.
    signer: config.signing_key && !opts.readOnly ? createSigner(config.signing_key) : undefined,
    now: opts.now ?? Date.now,
    onAsyncError: opts.onAsyncError ?? (() => {}),
  };
  if (target.startsWith('sqlite:')) {
    const path = target.slice('sqlite:'.length);
    if (path.length === 0) throw new PortcullisError('ERR_CONFIG_INVALID', 'audit.store: sqlite: needs a file path, e.g. sqlite:./data/portcullis.db');
    return new SqliteStore(path, common);
  }
  return new PostgresStore({ ...common, url: target, password: config.password, schema: config.schema });
}
