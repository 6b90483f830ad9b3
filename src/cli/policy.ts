import { Command, Option } from 'commander';
import { createAnalyzer } from '../analysis/analyzer.js';
import { createSnowflakeAnalyzer } from '../analysis/snowflake/analyzer.js';
import type { Config } from '../config/schema.js';
import { PortcullisError } from '../errors/portcullis-error.js';
import type { ClientInfo, FrontendName, Principal } from '../pipeline/principal.js';
import { checkPolicy } from '../policy/check.js';
import { createPolicyEngine } from '../policy/engine.js';

/** Where the commands write and how they end; tests pass their own. */
export interface PolicyIo {
  out(text: string): void;
  err(text: string): void;
  exit(code: number): void;
}

const processIo: PolicyIo = {
  out: (t) => void process.stdout.write(t),
  err: (t) => void process.stderr.write(t),
  exit: (code) => {
    process.exitCode = code;
  },
};

/** `policy explain` exit codes: scripts can branch on the decision. Errors use 3 (see cli/main.ts). */
export const EXPLAIN_EXIT = { allow: 0, deny: 1, review: 2 } as const;

/**
 * `portcullis policy check|explain`.
 *
 * @example
 * portcullis policy check --config portcullis.yaml
 * portcullis policy explain --config portcullis.yaml --as alice:analysts,oncall --connection warehouse "DELETE FROM orders"
 */
export function policyCommand(loadConfig: (path: string) => Config, io: PolicyIo = processIo): Command {
  const policy = new Command('policy').description('check a policy and explain its decisions');

  policy
    .command('check')
    .description('validate the policy and report shadowed or unreachable rules')
    .requiredOption('-c, --config <file>', 'configuration file (YAML)')
    .action((opts: { config: string }) => {
      const config = loadConfig(opts.config);
      if (config.policy === undefined) throw new PortcullisError('ERR_POLICY_MISSING', `${opts.config} has no policy: section; the gateway would refuse to start`);
      const report = checkPolicy(config.policy);
      for (const e of report.errors) io.err(`error: ${e}\n`);
      for (const f of report.findings) io.out(`${f.severity}: rule ${f.rule}: ${f.message}\n`);
      const p = report.policy;
      if (report.ok && p) io.out(`ok: ${p.rules.length} rule${p.rules.length === 1 ? '' : 's'}${p.preset ? `, then preset ${p.preset}` : ''}, then deny\n`);
      io.exit(report.ok ? 0 : 1);
    });

  policy
    .command('explain')
    .description('print the facts of a statement, the rule that matches it and the decision (exit 0 allow, 1 deny, 2 review)')
    .requiredOption('-c, --config <file>', 'configuration file (YAML)')
    .requiredOption('--as <subject[:groups]>', 'who is asking: a subject, optionally :group,group')
    .requiredOption('--connection <name>', 'connection name from the config')
    .addOption(new Option('--frontend <name>', 'frontend the statement arrives on').choices(['pgwire', 'http', 'mcp', 'snowflake']).default('pgwire'))
    .option('--json', 'print the explanation as JSON')
    .argument('<sql>', 'the SQL text, as the client would send it')
    .action(async (sql: string, opts: { config: string; as: string; connection: string; frontend: FrontendName; json?: boolean }) => {
      const config = loadConfig(opts.config);
      if (config.policy === undefined) throw new PortcullisError('ERR_POLICY_MISSING', `${opts.config} has no policy: section; the gateway would refuse every statement`);
      if (!(opts.connection in config.connections)) {
        throw new PortcullisError('ERR_UNKNOWN_CONNECTION', `no connection named "${opts.connection}" in ${opts.config} (have: ${Object.keys(config.connections).join(', ')})`);
      }
      const principal = parseAs(opts.as);
      const client: ClientInfo = { address: 'policy-explain', frontend: opts.frontend, tls: true };
      // The connection's SQL dialect decides which grammar reads the statement.
      const analyzer = config.connections[opts.connection]!.type === 'snowflake' ? await createSnowflakeAnalyzer() : await createAnalyzer();
      const analysis = analyzer.analyze(sql);
      const engine = createPolicyEngine(config.policy);
      const { decision, perStatement } = engine.explain({ principal, client, connection: opts.connection, analysis });
      if (opts.json) io.out(`${JSON.stringify({ principal, connection: opts.connection, analysis, perStatement, decision }, null, 2)}\n`);
      else {
        io.out(`as ${principal.subject}${principal.groups.length ? ` (groups: ${principal.groups.join(', ')})` : ''} on ${opts.connection} via ${opts.frontend}\n`);
        analysis.statements.forEach((s, i) => {
          io.out(`statement ${i + 1}: ${s.tag}\n`);
          io.out(`  kind:      ${s.kind}\n`);
          if (s.risks.length) io.out(`  risks:     ${s.risks.join(', ')}\n`);
          if (s.reads.length) io.out(`  reads:     ${s.reads.join(', ')}\n`);
          if (s.writes.length) io.out(`  writes:    ${s.writes.join(', ')}\n`);
          if (s.functions.length) io.out(`  functions: ${s.functions.join(', ')}\n`);
          if (s.error) io.out(`  error:     ${s.error}\n`);
          const p = perStatement[i];
          if (p) io.out(`  rule:      ${p.rule} → ${p.action}\n`);
        });
        io.out(`decision: ${decision.action} (rule ${decision.rule})\n`);
        if (decision.action !== 'allow') io.out(`reason: ${decision.reason}\n`);
        else {
          if (decision.maxRows !== undefined) io.out(`max_rows: ${decision.maxRows}\n`);
          if (decision.timeoutMs !== undefined) io.out(`timeout: ${decision.timeoutMs} ms\n`);
          if (decision.mask?.length) io.out(`mask: ${decision.mask.join(', ')}\n`);
          if (decision.wouldHave) io.out(`audit-only: would have been ${decision.wouldHave.action} by ${decision.wouldHave.rule}: ${decision.wouldHave.reason}\n`);
        }
      }
      io.exit(EXPLAIN_EXIT[decision.action]);
    });

  return policy;
}

/** `alice`, `alice:analysts`, `key:ci-bot:etl,ops` — groups follow the last colon. */
export function parseAs(spec: string): Principal {
  // A service-key subject (key:ci-bot) has a colon of its own; groups follow the last colon beyond it.
  const keyOnly = spec.startsWith('key:') && spec.indexOf(':', 4) < 0;
  const i = keyOnly ? -1 : spec.lastIndexOf(':');
  const hasGroups = i > 0;
  const subject = hasGroups ? spec.slice(0, i) : spec;
  const groups = hasGroups
    ? spec
        .slice(i + 1)
        .split(',')
        .map((g) => g.trim())
        .filter((g) => g.length > 0)
    : [];
  if (subject.length === 0) throw new PortcullisError('ERR_CONFIG_INVALID', '--as needs a subject, e.g. --as alice:analysts');
  return { subject, groups, issuer: 'portcullis:explain', authMethod: 'service-key' };
}
