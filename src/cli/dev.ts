import { readFileSync } from 'node:fs';
import { Command, Option } from 'commander';

/**
 * `portcullis dev …`: development tools that are not part of the gateway.
 *
 * @example
 * SF_PW=secret portcullis dev snowflake-emulator --port 8085 --seed demo --user alice --password-env SF_PW
 */
export function devCommand(out: (text: string) => void = (t) => void process.stdout.write(t)): Command {
  const dev = new Command('dev').description('development tools (not for production)');
  dev
    .command('snowflake-emulator')
    .description('run a local server that speaks the Snowflake driver protocol, backed by in-memory DuckDB')
    .option('-p, --port <port>', 'port to listen on (0 picks one)', '8085')
    .option('--host <host>', 'loopback address to listen on', '127.0.0.1')
    .addOption(new Option('--seed <seed>', 'data to load').choices(['demo', 'empty']).default('demo'))
    .option('--user <name>', 'login name of the emulated user', 'emulator')
    .option('--password-env <var>', 'environment variable holding the user\'s password')
    .option('--public-key <file>', 'PEM public key for key-pair (SNOWFLAKE_JWT) login')
    .action(async function (this: Command, opts: { port: string; host: string; seed: 'demo' | 'empty'; user: string; passwordEnv?: string; publicKey?: string }) {
      const port = Number(opts.port);
      if (!Number.isInteger(port) || port < 0 || port > 65_535) this.error('error: --port must be a number from 0 to 65535', { exitCode: 2 });
      let password: string | undefined;
      if (opts.passwordEnv !== undefined) {
        password = process.env[opts.passwordEnv];
        if (!password) this.error(`error: environment variable ${opts.passwordEnv} is not set`, { exitCode: 2 });
      }
      let publicKeyPem: string | undefined;
      if (opts.publicKey !== undefined) {
        try {
          publicKeyPem = readFileSync(opts.publicKey, 'utf8');
        } catch (e) {
          this.error(`error: cannot read --public-key: ${(e as Error).message}`, { exitCode: 2 });
        }
      }
      // Without any credential option the documented default login (emulator/emulator) applies.
      if (password === undefined && publicKeyPem === undefined) password = opts.user === 'emulator' ? 'emulator' : undefined;
      if (password === undefined && publicKeyPem === undefined) this.error('error: give --password-env or --public-key for --user', { exitCode: 2 });

      // snowflake-sdk is not loaded here, but the emulator's users may run it in this process's children; keep the probe off.
      process.env.SNOWFLAKE_DISABLE_PLATFORM_DETECTION ??= 'true';
      const { startSnowflakeEmulator } = await import('../dev/snowflake-emulator/index.js');
      let emu;
      try {
        emu = await startSnowflakeEmulator({ port, host: opts.host, seed: opts.seed, users: { [opts.user]: { password, publicKeyPem } } });
      } catch (e) {
        this.error(`error: ${(e as Error).message}`, { exitCode: 1 });
      }
      const database = opts.seed === 'demo' ? 'DEMO' : 'EMULATOR';
      const auth = publicKeyPem
        ? `authenticator: 'SNOWFLAKE_JWT', privateKey: fs.readFileSync('<your private key>.p8', 'utf8'),`
        : `password: process.env.${opts.passwordEnv ?? 'SNOWFLAKE_PASSWORD'},`;
      out(
        [
          `Snowflake emulator (development only) listening on ${emu.url}`,
          `Database ${database}, schema PUBLIC, user ${opts.user.toUpperCase()}.`,
          '',
          'snowflake-sdk:',
          '',
          "  process.env.SNOWFLAKE_DISABLE_PLATFORM_DETECTION = 'true';",
          "  const snowflake = (await import('snowflake-sdk')).default;",
          '  const conn = snowflake.createConnection({',
          `    accessUrl: '${emu.url}', account: 'emulator', username: '${opts.user}',`,
          `    ${auth}`,
          `    database: '${database}', schema: 'PUBLIC',`,
          '  });',
          '  conn.connect((err) => { /* … */ });',
          '',
          'Press Ctrl-C to stop.',
          '',
        ].join('\n'),
      );
      const stop = () => {
        emu.close().then(
          () => process.exit(0),
          () => process.exit(1),
        );
      };
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
    });
  return dev;
}
