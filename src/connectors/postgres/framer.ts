import type { Duplex } from 'node:stream';
import { ProtocolError } from '../../codecs/pgwire/body-reader.js';

/** One backend message: its type byte and a body the caller may keep. */
export interface BackendMessage {
  readonly code: number;
  readonly body: Buffer;
}

/** Startup replies are small; anything larger is a confused or hostile server. */
const MAX_STARTUP_MESSAGE = 1024 * 1024;

/**
 * Pulls whole backend messages off a socket with `await next()`. Meant for the startup phase
 * and probes, which are short and not on the hot path; sessions relay bytes with the codec.
 * `detach()` pauses the socket and returns the unread bytes, so the next owner loses nothing.
 */
export class MessageFramer {
  readonly #socket: Duplex;
  #buf: Buffer;
  #failure: Error | undefined;
  #wake: (() => void) | undefined;
  readonly #onData = (chunk: Buffer): void => {
    this.#buf = this.#buf.length === 0 ? chunk : Buffer.concat([this.#buf, chunk]);
    this.#notify();
  };
  readonly #onError = (err: Error): void => {
    this.#failure ??= err;
    this.#notify();
  };
  readonly #onClose = (): void => {
    this.#failure ??= new Error('connection closed by the server');
    this.#notify();
  };

  constructor(socket: Duplex, initial: Buffer | null = null) {
    this.#socket = socket;
    this.#buf = initial ?? Buffer.alloc(0);
    socket.on('data', this.#onData);
    socket.on('error', this.#onError);
    socket.on('close', this.#onClose);
    socket.on('end', this.#onClose);
    // A socket handed over paused (see detach) does not restart on a new 'data' listener.
    socket.resume();
  }

  async next(): Promise<BackendMessage> {
    for (;;) {
      if (this.#buf.length >= 5) {
        const len = this.#buf.readInt32BE(1);
        if (len < 4 || len > MAX_STARTUP_MESSAGE) throw new ProtocolError(`backend message length ${len} is out of range`);
        if (this.#buf.length >= len + 1) {
          const code = this.#buf[0]!;
          const body = this.#buf.subarray(5, len + 1);
          this.#buf = this.#buf.subarray(len + 1);
          return { code, body };
        }
      }
      if (this.#failure) throw this.#failure;
      await new Promise<void>((resolve) => {
        this.#wake = resolve;
      });
    }
  }

  /** Stop reading; returns bytes received but not yet consumed (null when none). */
  detach(): Buffer | null {
    this.#socket.pause();
    this.#socket.off('data', this.#onData);
    this.#socket.off('error', this.#onError);
    this.#socket.off('close', this.#onClose);
    this.#socket.off('end', this.#onClose);
    const rest = this.#buf.length > 0 ? Buffer.from(this.#buf) : null;
    this.#buf = Buffer.alloc(0);
    return rest;
  }

  #notify(): void {
    const wake = this.#wake;
    this.#wake = undefined;
    wake?.();
  }
}
