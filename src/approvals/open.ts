import { dirname, join } from 'node:path';
import type { Logger } from 'pino';
import type { Connector } from '../connectors/connector.js';
import type { AuditConfig } from '../audit/schema.js';
import type { Secret } from '../config/secret.js';
import { PortcullisError } from '../errors/portcullis-error.js';
import type { PolicyConfig } from '../policy/schema.js';
import { ApprovalsEngine, type ApprovalsEngineOptions } from './engine.js';
import { PostgresApprovalStore } from './postgres-store.js';
import type { ApprovalsConfig, NotificationsConfig } from './schema.js';
import { SqliteApprovalStore } from './sqlite-store.js';
import type { ApprovalStore } from './store.js';

export type ApprovalsStoreTarget =
  | { readonly kind: 'sqlite'; readonly path: string }
  | { readonly kind: 'postgres'; readonly url: string; readonly password: Secret | undefined; readonly schema: string };

const reveal = (s: string | Secret): string => (typeof s === 'string' ? s : s.reveal());

/**
 * Where approvals live: `approvals.store` when set; else wherever the audit log is — the same
 * PostgreSQL database and schema (its tables are named apart from the audit's), or
 * approvals.db beside a SQLite audit file. Several gateways sharing an audit database thereby
 * share their approvals too, without a second setting to keep in step.
 */
export function approvalsStoreTarget(config: ApprovalsConfig, audit: AuditConfig | undefined): ApprovalsStoreTarget {
  if (config.store !== undefined) {
    const s = reveal(config.store);
    if (s.startsWith('sqlite:')) return { kind: 'sqlite', path: s.slice('sqlite:'.length) };
    return { kind: 'postgres', url: s, password: config.password, schema: config.schema ?? 'portcullis' };
  }
  const a = audit?.store === undefined ? undefined : reveal(audit.store);
  if (a === undefined) return { kind: 'sqlite', path: './data/approvals.db' };
  if (a.startsWith('sqlite:')) return { kind: 'sqlite', path: join(dirname(a.slice('sqlite:'.length)), 'approvals.db') };
  return { kind: 'postgres', url: a, password: config.password ?? audit?.password, schema: config.schema ?? audit?.schema ?? 'portcullis' };
}

export function openApprovalStore(target: ApprovalsStoreTarget): ApprovalStore {
  if (target.kind === 'sqlite') {
    if (target.path.length === 0) throw new PortcullisError('ERR_CONFIG_INVALID', 'approvals.store: sqlite: needs a file path, e.g. sqlite:./data/approvals.db');
    return new SqliteApprovalStore(target.path);
  }
  return new PostgresApprovalStore(target);
}

/**
 * Builds the approve stage when `approvals:` is configured; main.ts wires it in. Held requests
 * a previous run of this gateway left pending are abandoned before it serves; if the store is
 * unreachable now the gateway still starts, logs it, and refuses review statements until the
 * store is back (those old requests then expire on their own).
 */
export async function openApprovals(
  config: { approvals?: ApprovalsConfig | undefined; notifications?: NotificationsConfig | undefined; policy: PolicyConfig },
  audit: AuditConfig | undefined,
  connectors: ReadonlyMap<string, Connector>,
  logger: Logger,
  recorder?: ApprovalsEngineOptions['audit'],
): Promise<ApprovalsEngine | undefined> {
  if (!config.approvals) return undefined;
  const engine = new ApprovalsEngine({
    store: openApprovalStore(approvalsStoreTarget(config.approvals, audit)),
    config: config.approvals,
    notifications: config.notifications,
    rules: config.policy.rules,
    connectors,
    audit: recorder,
    logger,
  });
  await engine.recover();
  return engine;
}
