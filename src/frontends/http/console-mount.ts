import type { Logger } from 'pino';
import type { Config } from '../../config/schema.js';
import type { Connector } from '../../connectors/connector.js';
import { ConsoleApp, CONSOLE_PATH } from '../../web/console-app.js';
import type { ConsoleDeps } from '../../web/console-deps.js';

/** What main.ts adds to the listener's own dependencies for the console. */
export type ConsoleWiring = Omit<ConsoleDeps, 'config' | 'connectors' | 'logger'>;

/** The console when `console:` is configured and main.ts wired it; else nothing is mounted. */
export function mountConsole(config: Config, connectors: ReadonlyMap<string, Connector>, logger: Logger, wiring: ConsoleWiring | undefined): ConsoleApp | undefined {
  if (!config.console || !wiring) return undefined;
  return new ConsoleApp(config.console, { ...wiring, config, connectors, logger: logger.child({ component: 'console' }) });
}

export function isConsolePath(path: string): boolean {
  return path === CONSOLE_PATH || path.startsWith(`${CONSOLE_PATH}/`);
}
