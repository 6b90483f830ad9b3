import { TLSSocket, type SecureContext } from 'node:tls';
import type { Socket } from 'node:net';
import { ProtocolError } from '../../codecs/pgwire/body-reader.js';
import { parseStartupPacket, startupPacketLength, type StartupPacket } from '../../codecs/pgwire/startup.js';
import { parsePassword } from '../../codecs/pgwire/frontend-messages.js';
import { Fe } from '../../codecs/pgwire/message-codes.js';
import { PortcullisError } from '../../errors/portcullis-error.js';

/**
 * Reads the client's side of the startup phase: SSLRequest / GSSENCRequest negotiation, the
 * StartupMessage (or a CancelRequest), then the PasswordMessage. Not a hot path: it buffers
 * small packets and suspends on promises.
 * https://www.postgresql.org/docs/current/protocol-flow.html#PROTOCOL-FLOW-START-UP
 */
export class HandshakeReader {
  socket: Socket;
  #buf: Buffer = Buffer.alloc(0);
  #waiter: (() => void) | null = null;
  #ended = false;
  #onData = (chunk: Buffer): void => {
    this.#buf = this.#buf.length === 0 ? chunk : Buffer.concat([this.#buf, chunk]);
    // Startup packets are tiny; a client that streams more than this before authenticating is hostile.
    if (this.#buf.length > 64 * 1024) {
      this.#ended = true;
      this.socket.destroy();
    }
    this.#wake();
  };
  #onEnd = (): void => {
    this.#ended = true;
    this.#wake();
  };

  constructor(socket: Socket) {
    this.socket = socket;
    this.#attach();
  }

  #attach(): void {
    this.socket.on('data', this.#onData);
    this.socket.on('end', this.#onEnd);
    this.socket.on('close', this.#onEnd);
    this.socket.on('error', this.#onEnd);
  }

  /** Stop listening; returns bytes that arrived beyond what was read. */
  detach(): Buffer {
    this.socket.off('data', this.#onData);
    this.socket.off('end', this.#onEnd);
    this.socket.off('close', this.#onEnd);
    this.socket.off('error', this.#onEnd);
    const rest = this.#buf;
    this.#buf = Buffer.alloc(0);
    return rest;
  }

  #wake(): void {
    const w = this.#waiter;
    this.#waiter = null;
    w?.();
  }

  async #more(): Promise<void> {
    if (this.#ended) throw new PortcullisError('ERR_PROTOCOL_VIOLATION', 'the client closed the connection during startup');
    await new Promise<void>((resolve) => (this.#waiter = resolve));
  }

  async readStartupPacket(): Promise<StartupPacket> {
    for (;;) {
      const len = startupPacketLength(this.#buf);
      if (len > 0) {
        const packet = parseStartupPacket(this.#buf, len);
        this.#buf = this.#buf.subarray(len);
        return packet;
      }
      await this.#more();
    }
  }

  /** True when bytes arrived after the last packet — illegal right after an SSLRequest. */
  get hasBufferedBytes(): boolean {
    return this.#buf.length > 0;
  }

  /** Upgrades to TLS after answering 'S' to an SSLRequest. */
  async upgradeToTls(context: SecureContext, timeoutMs: number): Promise<void> {
    this.detach();
    const tls = new TLSSocket(this.socket, { isServer: true, secureContext: context });
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new PortcullisError('ERR_PROTOCOL_VIOLATION', 'TLS handshake timed out')), timeoutMs);
      tls.once('secure', () => {
        clearTimeout(timer);
        resolve();
      });
      tls.once('error', (e) => {
        clearTimeout(timer);
        reject(new PortcullisError('ERR_PROTOCOL_VIOLATION', `TLS handshake failed: ${e.message}`));
      });
    });
    this.socket = tls;
    this.#attach();
  }

  /** Reads one typed message whole; returns its code and frame. Only for the password. */
  async readTypedMessage(maxBytes: number): Promise<{ code: number; frame: Buffer }> {
    for (;;) {
      if (this.#buf.length >= 5) {
        const len = this.#buf.readInt32BE(1);
        if (len < 4 || len > maxBytes) throw new ProtocolError(`invalid message length ${len} during authentication`);
        if (this.#buf.length >= len + 1) {
          const frame = this.#buf.subarray(0, len + 1);
          this.#buf = this.#buf.subarray(len + 1);
          return { code: frame[0]!, frame };
        }
      }
      await this.#more();
    }
  }

  async readPassword(): Promise<string> {
    const { code, frame } = await this.readTypedMessage(16 * 1024);
    if (code !== Fe.Password) throw new ProtocolError(`expected a password message, got type 0x${code.toString(16)}`);
    return parsePassword(frame, 0, frame.length);
  }
}
