/**
 * A reusable buffer for building protocol messages. `begin(code)` reserves the 5-byte header,
 * `end()` fills the length in place; `take()` hands out everything built since the last take
 * as one Buffer, so a batch of messages becomes one socket write.
 * https://www.postgresql.org/docs/current/protocol-message-formats.html
 */
export class MessageWriter {
  #buf: Buffer;
  #pos = 0;
  #start = -1;
  #taken = 0;

  constructor(initialSize = 1024) {
    this.#buf = Buffer.allocUnsafe(initialSize);
  }

  /** Start a message with a type byte; `code` 0 starts an untyped (startup-phase) message. */
  begin(code: number): this {
    if (code === 0) {
      this.#ensure(4);
      this.#start = this.#pos;
      this.#pos += 4;
    } else {
      this.#ensure(5);
      this.#buf[this.#pos] = code;
      this.#start = this.#pos + 1;
      this.#pos += 5;
    }
    return this;
  }

  int8(v: number): this {
    this.#ensure(1);
    this.#buf[this.#pos++] = v & 0xff;
    return this;
  }

  int16(v: number): this {
    this.#ensure(2);
    this.#buf.writeInt16BE(v, this.#pos);
    this.#pos += 2;
    return this;
  }

  int32(v: number): this {
    this.#ensure(4);
    this.#buf.writeInt32BE(v | 0, this.#pos);
    this.#pos += 4;
    return this;
  }

  /** A NUL-terminated UTF-8 string. Callers must not pass strings containing NUL. */
  cstring(s: string): this {
    const len = Buffer.byteLength(s, 'utf8');
    this.#ensure(len + 1);
    this.#buf.write(s, this.#pos, 'utf8');
    this.#pos += len;
    this.#buf[this.#pos++] = 0;
    return this;
  }

  bytes(b: Uint8Array): this {
    this.#ensure(b.length);
    this.#buf.set(b, this.#pos);
    this.#pos += b.length;
    return this;
  }

  /** Fill in the length of the message begun last. */
  end(): this {
    if (this.#start < 0) throw new TypeError('MessageWriter.end() without begin()');
    this.#buf.writeInt32BE(this.#pos - this.#start, this.#start);
    this.#start = -1;
    return this;
  }

  get pending(): number {
    return this.#pos - this.#taken;
  }

  /** Everything built since the last take, as a fresh Buffer the caller may keep. */
  take(): Buffer {
    const out = Buffer.from(this.#buf.subarray(this.#taken, this.#pos));
    this.#pos = 0;
    this.#taken = 0;
    return out;
  }

  #ensure(n: number): void {
    if (this.#pos + n <= this.#buf.length) return;
    let size = this.#buf.length * 2;
    while (size < this.#pos + n) size *= 2;
    const next = Buffer.allocUnsafe(size);
    this.#buf.copy(next, 0, 0, this.#pos);
    this.#buf = next;
  }
}
