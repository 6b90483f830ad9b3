import { pino, type Logger } from 'pino';

/**
 * The gateway log: JSON lines on stderr. Anything that looks like a credential is redacted by
 * key as a second line of defence; the first is that credentials are `Secret`s and never
 * passed to the logger at all.
 */
export function createLogger(level: string = process.env.PORTCULLIS_LOG_LEVEL ?? 'info'): Logger {
  return pino(
    {
      level,
      base: { service: 'portcullis' },
      redact: {
        paths: ['password', 'secret', 'token', 'credential', 'authorization', '*.password', '*.secret', '*.token', '*.credential', '*.authorization', 'headers.authorization'],
        censor: '[redacted]',
      },
    },
    pino.destination({ fd: 2, sync: false }),
  );
}

export const silentLogger: Logger = pino({ level: 'silent' });
