import type { Logger } from 'pino';
import type { Config } from '../config/schema.js';
import type { Connector } from '../connectors/connector.js';
import type { ApprovalsBackend } from '../frontends/http/approvals-api.js';
import type { AuditQuery } from '../audit/query.js';
import type { AnalyzeStage } from '../pipeline/stages.js';
import type { PolicyEngine } from '../policy/engine.js';
import type { LiveSessions } from './live-sessions.js';

/** What the console reads and drives; main.ts hands these over, the console owns none of them. */
export interface ConsoleDeps {
  readonly config: Config;
  readonly connectors: ReadonlyMap<string, Connector>;
  readonly approvals?: ApprovalsBackend | undefined;
  readonly audit?: AuditQuery | undefined;
  readonly analyze: AnalyzeStage;
  readonly policy: PolicyEngine;
  readonly live?: LiveSessions | undefined;
  readonly logger: Logger;
  readonly now?: (() => number) | undefined;
}
