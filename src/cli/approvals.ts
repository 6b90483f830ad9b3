import { Command } from 'commander';
import { PortcullisError } from '../errors/portcullis-error.js';

/** Where the commands write and how they end; tests pass their own. */
export interface ApprovalsCliIo {
  out(text: string): void;
  exit(code: number): void;
  env: NodeJS.ProcessEnv;
}

const processIo: ApprovalsCliIo = { out: (t) => void process.stdout.write(t), exit: (c) => void (process.exitCode = c), env: process.env };

/**
 * `portcullis approvals list|show|approve|deny`: a client of the running gateway's HTTP API,
 * so every vote goes through the same checks (identity, approver groups, no self-approval) and
 * wakes the held session. The credential comes from PORTCULLIS_TOKEN (an OIDC access token or
 * a service key), never from a flag that would land in shell history; the URL from --url or
 * from listen.http in --config.
 *
 * @example
 * PORTCULLIS_TOKEN=$(get-token) portcullis approvals list --url https://gw:8443
 * portcullis approvals approve 7f3a… --config portcullis.yaml --comment "ticket OPS-12"
 */
export function approvalsCommand(loadConfig: (path: string) => object, io: ApprovalsCliIo = processIo): Command {
  const cmd = new Command('approvals').description('list and decide statements held for review (talks to the gateway HTTP API; token in PORTCULLIS_TOKEN)');
  const target = (o: { url?: string; config?: string }) => {
    const token = io.env.PORTCULLIS_TOKEN;
    if (!token) throw new PortcullisError('ERR_AUTH_REQUIRED', 'set PORTCULLIS_TOKEN to your access token or service key');
    return { base: baseUrl(o, loadConfig), token };
  };
  const call = async (o: { url?: string; config?: string }, path: string, body?: unknown): Promise<unknown> => {
    const t = target(o);
    const res = await fetch(`${t.base}${path}`, {
      method: body === undefined ? 'GET' : 'POST',
      headers: { authorization: `Bearer ${t.token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    }).catch((e: unknown) => {
      throw new PortcullisError('ERR_UPSTREAM_UNAVAILABLE', `cannot reach the gateway at ${t.base}: ${e instanceof Error ? e.message : String(e)}`);
    });
    const json = (await res.json().catch(() => ({}))) as { error?: { code?: string; message?: string } };
    if (!res.ok) throw new PortcullisError('ERR_POLICY_DENIED', `the gateway answered ${res.status}: ${json.error?.message ?? 'no detail'}${json.error?.code ? ` (${json.error.code})` : ''}`);
    return json;
  };
  const common = (c: Command) => c.option('-c, --config <file>', 'configuration file: the gateway URL is its listen.http').option('--url <url>', 'the gateway HTTP URL').option('--json', 'JSON output');

  common(cmd.command('list').description('approval requests, newest first').option('--status <status>', 'pending, approved, denied, expired, withdrawn, abandoned or used', 'pending')).action(
    async (o: { url?: string; config?: string; json?: boolean; status: string }) => {
      const r = (await call(o, `/api/approvals?status=${encodeURIComponent(o.status)}`)) as { approvals: Record<string, any>[] };
      if (o.json) for (const a of r.approvals) io.out(`${JSON.stringify(a)}\n`);
      else for (const a of r.approvals) io.out(`${a.id}  ${a.status}  ${a.requester.subject}  ${a.connection}  ${a.rule}  ${oneLine(a.sql)}\n`);
      io.exit(0);
    },
  );
  common(cmd.command('show').description('one request with the reviewer summary').argument('<id>')).action(async (id: string, o: { url?: string; config?: string; json?: boolean }) => {
    const a = (await call(o, `/api/approvals/${encodeURIComponent(id)}`)) as Record<string, any>;
    io.out(o.json ? `${JSON.stringify(a, null, 2)}\n` : describe(a));
    io.exit(0);
  });
  for (const verb of ['approve', 'deny'] as const) {
    common(cmd.command(verb).description(`${verb} a pending request`).argument('<id>').option('-m, --comment <text>', 'why; the requester reads it')).action(
      async (id: string, o: { url?: string; config?: string; json?: boolean; comment?: string }) => {
        const a = (await call(o, `/api/approvals/${encodeURIComponent(id)}/${verb}`, o.comment === undefined ? {} : { comment: o.comment })) as Record<string, any>;
        io.out(o.json ? `${JSON.stringify(a)}\n` : `${a.id}: ${a.status}\n`);
        io.exit(0);
      },
    );
  }
  return cmd;
}

function baseUrl(o: { url?: string; config?: string }, loadConfig: (path: string) => object): string {
  if (o.url) return o.url.replace(/\/+$/, '');
  if (!o.config) throw new PortcullisError('ERR_CONFIG_INVALID', 'give --url or --config (whose listen.http names the gateway)');
  const http = (loadConfig(o.config) as { listen?: { http?: { host: string; port: number; tls?: unknown } } }).listen?.http;
  if (!http) throw new PortcullisError('ERR_CONFIG_INVALID', `${o.config} has no listen.http; approvals are decided over the HTTP API`);
  const host = http.host === '0.0.0.0' || http.host === '::' ? '127.0.0.1' : http.host;
  return `${http.tls ? 'https' : 'http'}://${host.includes(':') ? `[${host}]` : host}:${http.port}`;
}

function oneLine(sql: string): string {
  const s = sql.replace(/\s+/g, ' ').trim();
  return s.length > 80 ? `${s.slice(0, 77)}...` : s;
}

function describe(a: Record<string, any>): string {
  const votes = (a.votes as { voter: string; vote: string; comment: string | null }[]).map((v) => `    ${v.voter}: ${v.vote}${v.comment ? ` (${v.comment})` : ''}`).join('\n');
  return [
    `request     ${a.id}  [${a.status}, ${a.mode}, scope ${a.scope}]`,
    `requester   ${a.requester.subject} [${a.requester.groups.join(', ')}] from ${a.requester.client} (${a.requester.frontend}${a.requester.application_name ? `, ${a.requester.application_name}` : ''})`,
    `connection  ${a.connection}  session ${a.session}`,
    `rule        ${a.rule}: ${a.reason}`,
    `facts       ${a.facts.kind} ${a.facts.tags.join(', ')} on ${a.facts.tables.join(', ') || '-'}${a.facts.risks.length ? `; risks ${a.facts.risks.join(', ')}` : ''}`,
    `estimate    ${a.estimated_rows === null ? 'unknown' : `${a.estimated_rows} row(s)`}`,
    `approvers   ${a.approvers.join(', ')} (${a.approvals_needed} needed); expires ${a.expires_at}`,
    `votes${votes ? `\n${votes}` : '       none'}`,
    '',
    a.sql,
    a.params ? `params: ${JSON.stringify(a.params)}` : '',
    '',
  ].join('\n');
}
