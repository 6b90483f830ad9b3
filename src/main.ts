import type { Logger } from 'pino';
import type { Config } from './config/schema.js';
import { createConnector } from './connectors/registry.js';
import type { Connector } from './connectors/connector.js';
import { PortcullisError } from './errors/portcullis-error.js';
import { PgwireServer } from './frontends/pgwire/server.js';
import { Pipeline } from './pipeline/pipeline.js';
import { createIdentifier } from './identity/identifier.js';
import { createAnalyzer } from './analysis/analyzer.js';
import { createSnowflakeAnalyzer } from './analysis/snowflake/analyzer.js';
import { routeByDialect } from './analysis/dialect-router.js';
import { createPolicyEngine } from './policy/engine.js';
import { createLimits } from './pipeline/limits.js';
import { Recorder } from './audit/recorder.js';
import { parseAuditConfig } from './audit/schema.js';
import { createMaskingEngine } from './masking/index.js';
import { planRowMasking, maskDriverError } from './masking/result-masker.js';
import { openApprovals } from './approvals/open.js';
import { recordConsoleActionsWith } from './web/action-log.js';
import type { ApprovalsEngine } from './approvals/engine.js';
import { LiveSessions } from './web/live-sessions.js';

/**
 * Wiring only: builds connectors, the pipeline and the frontends from a validated config.
 * Nothing else in the codebase knows which concrete engine or connector is in use.
 */
export interface Gateway {
  readonly listening: readonly { frontend: string; host: string; port: number }[];
  readonly pipeline: Pipeline;
  readonly connectors: ReadonlyMap<string, Connector>;
  readonly recorder: Recorder | undefined;
  readonly approvals: ApprovalsEngine | undefined;
  stop(): Promise<void>;
}

export async function startGateway(config: Config, logger: Logger): Promise<Gateway> {
  if (!config.policy) {
    throw new PortcullisError('ERR_POLICY_MISSING', 'the configuration has no policy: section; refusing to start (add `policy: { preset: read-only }` to begin)');
  }
  const connectors = new Map<string, Connector>();
  for (const [name, c] of Object.entries(config.connections)) connectors.set(name, createConnector(name, c));
  await Promise.all([...connectors.values()].map((c) => c.start()));

  // One analyzer per SQL dialect the connections speak; each session gets its connection's.
  const analyzer = await createAnalyzer();
  const dialects = new Map([...connectors].map(([n, c]) => [n, c.dialect]));
  const analyze = [...dialects.values()].includes('snowflake')
    ? routeByDialect({ postgres: analyzer, snowflake: await createSnowflakeAnalyzer() }, (c) => dialects.get(c))
    : analyzer;
  const masking = createMaskingEngine(config.masking);
  const audit = parseAuditConfig(config.audit);
  const recorder = audit.enabled ? await Recorder.open(audit, { logger: logger.child({ stage: 'audit' }) }) : undefined;
  if (!recorder) logger.warn('audit.enabled is false: sessions and statements are NOT recorded');
  // ── approvals: review decisions wait for a person (issue 7) ──────────────────────────
  const approvals = await openApprovals({ ...config, policy: config.policy }, audit, connectors, logger.child({ stage: 'approvals' }), recorder);
  recordConsoleActionsWith(recorder ? (a) => recorder.recordAction(a) : undefined);
  // ── end approvals ─────────────────────────────────────────────────────────────────────
  const policy = createPolicyEngine(config.policy);
  // The console lists who is connected now; only built when the console is configured.
  const live = config.console ? new LiveSessions() : undefined;
  if (config.console && !config.listen.http) logger.warn('console: is configured but listen.http is not; the console is not served');
  const pipeline = new Pipeline({
    identify: createIdentifier(config.identities),
    analyze,
    decide: policy,
    limits: createLimits(config.policy),
    policyHasLimits: config.policy.rules.some((r) => r.max_rows !== undefined || r.timeout !== undefined),
    record: recorder,
    approve: approvals,
    listeners: [...(recorder ? [recorder] : []), ...(approvals ? [approvals] : []), ...(live ? [live] : [])],
    mask: masking.enabled
      ? { planRows: (columns, ctx) => planRowMasking(masking, columns, ctx), maskError: (fields, ctx) => maskDriverError(masking, fields, ctx) }
      : undefined,
  });

  const listening: { frontend: string; host: string; port: number }[] = [];
  const stops: (() => Promise<void>)[] = [];
  if (config.listen.postgres) {
    const l = config.listen.postgres;
    const server = new PgwireServer({
      host: l.host,
      port: l.port,
      tls: l.tls,
      pipeline,
      connections: connectors,
      allowInsecureLoopback: config.security.allow_insecure_loopback,
      maxConnections: config.limits.max_connections,
      maxMessageBytes: config.limits.max_message_bytes,
      startupTimeoutMs: config.limits.startup_timeout * 1000,
      logger: logger.child({ frontend: 'pgwire' }),
      masking: masking.enabled ? masking : undefined,
    });
    const addr = await server.listen();
    listening.push({ frontend: 'postgres', ...addr });
    stops.push(() => server.close());
  }

  // ── HTTP listener: query API and MCP at /mcp (issue 8) ───────────────────────────────
  if (config.listen.http) {
    const { startHttpListener } = await import('./frontends/http/start.js');
    const http = await startHttpListener(config, pipeline, connectors, logger.child({ frontend: 'http' }), masking, approvals, { approvals, audit: recorder?.query, analyze, policy, live });
    if (http) {
      if (approvals && approvals.consoleUrl === undefined) approvals.consoleUrl = `${config.listen.http.tls ? 'https' : 'http'}://${http.host.includes(':') ? `[${http.host}]` : http.host}:${http.port}`;
      listening.push({ frontend: 'http', host: http.host, port: http.port });
      stops.push(() => http.close());
    }
  }
  // ── end HTTP listener ─────────────────────────────────────────────────────────────────

  // ── Snowflake listener: the driver protocol and SQL API v2 ───────────────────────────
  if (config.listen.snowflake) {
    const { startSnowflakeFrontend } = await import('./frontends/snowflake/start.js');
    const sf = await startSnowflakeFrontend(config, pipeline, connectors, logger.child({ frontend: 'snowflake' }), masking);
    if (sf) {
      listening.push({ frontend: 'snowflake', host: sf.host, port: sf.port });
      stops.push(() => sf.close());
    }
  }
  // ── end Snowflake listener ────────────────────────────────────────────────────────────

  return {
    listening,
    pipeline,
    connectors,
    recorder,
    approvals,
    async stop() {
      // Held statements are abandoned first, so their clients hear why before the sockets close.
      await approvals?.close();
      await Promise.all(stops.map((s) => s()));
      await Promise.all([...connectors.values()].map((c) => c.close()));
      await recorder?.close();
    },
  };
}
