import { Command } from 'commander';
import { loadConfigFile } from '../config/load.js';
import { PortcullisError, isPortcullisError } from '../errors/portcullis-error.js';
import { readMcpConfig } from '../frontends/mcp/mcp-config.js';
import { serveStdio } from '../frontends/mcp/stdio.js';
import { VERSION } from '../util/version.js';
import { startGateway } from '../main.js';
import type { ClientInfo } from '../pipeline/principal.js';
import { createLogger } from '../util/logger.js';

export const TOKEN_ENV = 'PORTCULLIS_TOKEN';

/**
 * `portcullis mcp --config FILE`: an MCP server on stdin/stdout for agents that launch their
 * tools as processes. The credential (an OIDC access token or a service key) comes from
 * PORTCULLIS_TOKEN, never from argv, where other local users could read it.
 *
 * @example
 *   PORTCULLIS_TOKEN=pcs_… portcullis mcp --config portcullis.yaml
 */
export function mcpCommand(): Command {
  return new Command('mcp')
    .description(`serve MCP over stdio for a local agent; the credential comes from $${TOKEN_ENV}`)
    .requiredOption('-c, --config <file>', 'configuration file (YAML)')
    .action(async (opts: { config: string }) => {
      const token = process.env[TOKEN_ENV];
      // Nothing this process starts needs the credential in its environment.
      delete process.env[TOKEN_ENV];
      if (!token) throw new PortcullisError('ERR_AUTH_REQUIRED', `set ${TOKEN_ENV} to an access token or a service key (pcs_…)`);
      const config = loadConfigFile(opts.config);
      const logger = createLogger(process.env.PORTCULLIS_LOG_LEVEL ?? config.logging.level);
      // Connectors and the pipeline only: the stdio server must not take the listeners'
      // ports from a `portcullis serve` running beside it.
      const gw = await startGateway({ ...config, listen: {} }, logger);
      const client: ClientInfo = { address: 'stdio', frontend: 'mcp', tls: false };
      let principal;
      try {
        principal = await gw.pipeline.identify(token, client);
      } catch (e) {
        await gw.stop();
        if (isPortcullisError(e) && e.code === 'ERR_IDP_UNAVAILABLE') throw e;
        throw new PortcullisError('ERR_AUTH_FAILED', `${TOKEN_ENV} was not accepted (unknown, expired or revoked); obtain a fresh one`);
      }
      logger.info({ subject: principal.subject }, 'mcp stdio session started');
      const { closed } = await serveStdio({ deps: gw, principal, client, config: readMcpConfig(config), logger: logger.child({ frontend: 'mcp' }), version: VERSION });
      await closed;
      await gw.stop();
      process.exit(0);
    });
}
