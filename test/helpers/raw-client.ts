/**
 * A deliberately dumb PostgreSQL client over a raw socket, for sending exactly the bytes a
 * test wants (truncated, oversized, garbage) and reading back whatever the gateway answers.
 */
import { connect, type Socket } from 'node:net';
import { MessageWriter } from '../../src/codecs/pgwire/writer.js';
import { parseErrorFields, type ErrorFields } from '../../src/codecs/pgwire/error-fields.js';

export interface RawMessage {
  code: string;
  body: Buffer;
}

export class RawClient {
  readonly socket: Socket;
  #buf = Buffer.alloc(0);
  #closed = false;
  #waiters: (() => void)[] = [];

  private constructor(socket: Socket) {
    this.socket = socket;
    socket.on('data', (d: Buffer) => {
      this.#buf = Buffer.concat([this.#buf, d]);
      this.#wake();
    });
    socket.on('close', () => {
      this.#closed = true;
      this.#wake();
    });
    socket.on('error', () => {});
  }

  static async open(port: number): Promise<RawClient> {
    const s = connect(port, '127.0.0.1');
    await new Promise<void>((resolve, reject) => {
      s.once('connect', resolve);
      s.once('error', reject);
    });
    return new RawClient(s);
  }

  #wake(): void {
    for (const w of this.#waiters.splice(0)) w();
  }

  get closed(): boolean {
    return this.#closed;
  }

  write(b: Buffer | Uint8Array): void {
    this.socket.write(b);
  }

  startup(params: Record<string, string>): void {
    const w = new MessageWriter().begin(0).int32(196608);
    for (const [k, v] of Object.entries(params)) w.cstring(k).cstring(v);
    this.write(w.int8(0).end().take());
  }

  password(pw: string): void {
    this.write(new MessageWriter().begin(0x70).cstring(pw).end().take());
  }

  query(sql: string): void {
    this.write(new MessageWriter().begin(0x51).cstring(sql).end().take());
  }

  /** Next whole message, or null when the connection closed first. Rejects after `timeoutMs`. */
  async next(timeoutMs = 5000): Promise<RawMessage | null> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (this.#buf.length >= 5) {
        const len = this.#buf.readInt32BE(1);
        if (this.#buf.length >= len + 1) {
          const m = { code: String.fromCharCode(this.#buf[0]!), body: Buffer.from(this.#buf.subarray(5, len + 1)) };
          this.#buf = this.#buf.subarray(len + 1);
          return m;
        }
      }
      if (this.#closed) return null;
      const left = deadline - Date.now();
      if (left <= 0) throw new Error('timed out waiting for a message');
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.#waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
  }

  /** Reads a single raw byte (the SSLRequest answer). */
  async byte(timeoutMs = 5000): Promise<string | null> {
    const deadline = Date.now() + timeoutMs;
    while (this.#buf.length === 0) {
      if (this.#closed) return null;
      if (Date.now() > deadline) throw new Error('timed out waiting for a byte');
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, 50);
        this.#waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
    const b = String.fromCharCode(this.#buf[0]!);
    this.#buf = this.#buf.subarray(1);
    return b;
  }

  /** Reads until ReadyForQuery or an error/close; returns every message seen. */
  async untilReady(timeoutMs = 5000): Promise<RawMessage[]> {
    const out: RawMessage[] = [];
    for (;;) {
      const m = await this.next(timeoutMs);
      if (m === null) return out;
      out.push(m);
      if (m.code === 'Z') return out;
    }
  }

  /** Waits for the server to close the connection; returns what it sent before. */
  async untilClosed(timeoutMs = 5000): Promise<RawMessage[]> {
    const out: RawMessage[] = [];
    for (;;) {
      const m = await this.next(timeoutMs);
      if (m === null) return out;
      out.push(m);
    }
  }

  close(): void {
    this.socket.destroy();
  }
}

export function errorOf(messages: RawMessage[]): ErrorFields | undefined {
  const e = messages.find((m) => m.code === 'E');
  return e ? parseErrorFields(e.body, 0, e.body.length) : undefined;
}

/** Connects and authenticates; resolves once the first ReadyForQuery arrives. */
export async function authenticated(port: number, key: string, db = 'main'): Promise<RawClient> {
  const c = await RawClient.open(port);
  c.startup({ user: 'raw', database: db });
  const auth = await c.next();
  if (auth?.code !== 'R') throw new Error('expected an authentication request');
  c.password(key);
  const msgs = await c.untilReady();
  if (msgs.at(-1)?.code !== 'Z') throw new Error(`authentication failed: ${errorOf(msgs)?.message}`);
  return c;
}
