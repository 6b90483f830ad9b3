/**
 * Reads the fields of one message body in place. Out-of-bounds reads throw `ProtocolError`,
 * which the caller turns into a clean protocol-violation error, never a crash.
 */
export class ProtocolError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ProtocolError';
  }
}

export class BodyReader {
  buf: Buffer;
  pos: number;
  end: number;

  constructor(buf: Buffer, start = 0, end = buf.length) {
    this.buf = buf;
    this.pos = start;
    this.end = end;
  }

  reset(buf: Buffer, start: number, end: number): this {
    this.buf = buf;
    this.pos = start;
    this.end = end;
    return this;
  }

  get remaining(): number {
    return this.end - this.pos;
  }

  int8(): number {
    this.#need(1);
    return this.buf[this.pos++]!;
  }

  int16(): number {
    this.#need(2);
    const v = this.buf.readInt16BE(this.pos);
    this.pos += 2;
    return v;
  }

  int32(): number {
    this.#need(4);
    const v = this.buf.readInt32BE(this.pos);
    this.pos += 4;
    return v;
  }

  cstring(): string {
    const nul = this.buf.indexOf(0, this.pos);
    if (nul < 0 || nul >= this.end) throw new ProtocolError('string is not NUL-terminated within its message');
    const s = this.buf.toString('utf8', this.pos, nul);
    this.pos = nul + 1;
    return s;
  }

  /** `n` bytes as a view into the message (no copy). */
  bytes(n: number): Buffer {
    if (n < 0) throw new ProtocolError('negative length');
    this.#need(n);
    const b = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return b;
  }

  rest(): Buffer {
    return this.bytes(this.end - this.pos);
  }

  #need(n: number): void {
    if (this.pos + n > this.end) throw new ProtocolError('message is shorter than its fields');
  }
}
