import { inspect } from 'node:util';

const REDACTED = '[redacted]';

/**
 * A credential resolved from `${env:…}`/`${file:…}` or written inline. Its value is reachable
 * only through `reveal()`; every way of printing it (String, JSON, util.inspect, pino) yields
 * `[redacted]`, so a secret cannot leak through a log line or an error by accident.
 */
export class Secret {
  readonly #value: string;
  /** Where it came from, safe to print: `env:NAME`, `file:PATH` or `inline`. */
  readonly source: string;

  constructor(value: string, source: string) {
    this.#value = value;
    this.source = source;
  }

  reveal(): string {
    return this.#value;
  }

  toString(): string {
    return REDACTED;
  }

  toJSON(): string {
    return REDACTED;
  }

  [inspect.custom](): string {
    return `Secret(${this.source})`;
  }
}
