import { dirname, join } from 'node:path';
import type { Logger } from 'pino';
import type { Connector } from '../connectors/connector.js';
import type { AuditConfig } from '../audit/schema.js';
import type { PolicyConfig } from '../policy/schema.js';
import { ApprovalsEngine, type ApprovalsEngineOptions } from './engine.js';
import type { ApprovalsConfig, NotificationsConfig } from './schema.js';
import { ApprovalStore } from './store.js';

/** The file `approvals.store` names, else approvals.db beside a SQLite audit log. */
export function approvalsStorePath(config: ApprovalsConfig, audit: AuditConfig | undefined): string {
  if (config.store) return config.store.slice('sqlite:'.length);
  const a = audit?.store;
  if (typeof a === 'string' && a.startsWith('sqlite:')) return join(dirname(a.slice('sqlite:'.length)), 'approvals.db');
  return './data/approvals.db';
}

/** Builds the approve stage when `approvals:` is configured; main.ts wires it in. */
export function openApprovals(
  config: { approvals?: ApprovalsConfig | undefined; notifications?: NotificationsConfig | undefined; policy: PolicyConfig },
  audit: AuditConfig | undefined,
  connectors: ReadonlyMap<string, Connector>,
  logger: Logger,
  recorder?: ApprovalsEngineOptions['audit'],
): ApprovalsEngine | undefined {
  if (!config.approvals) return undefined;
  return new ApprovalsEngine({
    store: new ApprovalStore(approvalsStorePath(config.approvals, audit)),
    config: config.approvals,
    notifications: config.notifications,
    rules: config.policy.rules,
    connectors,
    audit: recorder,
    logger,
  });
}
