import { Command, Option } from 'commander';
import { VERSION } from '../util/version.js';
import { loadConfigFile } from '../config/load.js';
import { isPortcullisError } from '../errors/portcullis-error.js';
import { startGateway } from '../main.js';
import { createLogger } from '../util/logger.js';
import { runDemo } from './demo.js';
import { policyCommand } from './policy.js';
import { keysCommand } from './keys.js';
import { devCertsCommand } from './dev-certs.js';
import { sessionsCommand } from './sessions.js';
import { auditCommand } from './audit.js';

/** The `portcullis` command line. Commands stay thin: they parse flags and call the engines. */

const program = new Command('portcullis')
  .description('Access gateway between AI agents and production databases')
  .version(VERSION, '-V, --version')
  .showHelpAfterError();

program
  .command('serve')
  .description('run the gateway')
  .requiredOption('-c, --config <file>', 'configuration file (YAML)')
  .addOption(new Option('--log-level <level>', 'log level').choices(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']))
  .action(async (opts: { config: string; logLevel?: string }) => {
    const config = loadConfigFile(opts.config);
    const logger = createLogger(opts.logLevel ?? process.env.PORTCULLIS_LOG_LEVEL ?? config.logging.level);
    const gw = await startGateway(config, logger);
    for (const l of gw.listening) process.stderr.write(`portcullis: ${l.frontend} listening on ${l.host}:${l.port}\n`);
    const stop = (signal: string) => {
      logger.info({ signal }, 'shutting down');
      gw.stop().then(
        () => process.exit(0),
        () => process.exit(1),
      );
    };
    process.once('SIGINT', () => stop('SIGINT'));
    process.once('SIGTERM', () => stop('SIGTERM'));
  });

program
  .command('demo')
  .description('run the gateway in front of an embedded demo database and print how to connect')
  .option('-p, --port <port>', 'PostgreSQL listener port', (v) => Number.parseInt(v, 10), 6432)
  .option('--http-port <port>', 'HTTP/MCP listener port (default 8080; 0 with --port 0)', (v) => Number.parseInt(v, 10))
  .option('--snowflake-port <port>', 'Snowflake driver protocol port (default 8443; 0 with --port 0)', (v) => Number.parseInt(v, 10))
  .option('--data-dir <dir>', 'keep the demo database here instead of in memory')
  .action(async (opts: { port: number; httpPort?: number; snowflakePort?: number; dataDir?: string }) => {
    await runDemo(opts);
  });

const configCmd = program.command('config').description('configuration tools');
configCmd
  .command('check')
  .description('validate a configuration file (resolves ${env:…}/${file:…} references without printing them)')
  .requiredOption('-c, --config <file>', 'configuration file (YAML)')
  .action((opts: { config: string }) => {
    const config = loadConfigFile(opts.config);
    const names = Object.keys(config.connections);
    process.stdout.write(`ok: ${opts.config} is valid (${names.length} connection${names.length === 1 ? '' : 's'}: ${names.join(', ')})\n`);
    if (!config.policy) process.stdout.write('warning: no policy: is configured; the gateway will refuse to start (fail closed)\n');
  });

program
  .command('version')
  .description('print the version')
  .action(() => {
    process.stdout.write(`portcullis ${VERSION} (node ${process.version})\n`);
  });

program.addCommand(policyCommand(loadConfigFile));
program.addCommand(keysCommand());
program.addCommand(devCertsCommand());
program.addCommand(sessionsCommand(loadConfigFile));
program.addCommand(auditCommand(loadConfigFile));
program.addCommand((await import('./approvals.js')).approvalsCommand(loadConfigFile));
program.addCommand((await import('./mcp.js')).mcpCommand());
program.addCommand((await import('./dev.js')).devCommand());

try {
  await program.parseAsync(process.argv);
} catch (e) {
  if (isPortcullisError(e)) {
    process.stderr.write(`portcullis: ${e.message} [${e.code}]\n`);
    // 0/1/2 are reserved for allow/deny/review by `policy explain`.
    process.exit(3);
  }
  throw e;
}
