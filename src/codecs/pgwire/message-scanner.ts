/**
 * Frames a byte stream of typed protocol messages (type byte + int32 length) in place.
 *
 * The gateway must *see* only a few message types (a client's Query and Parse, a server's
 * ReadyForQuery and ErrorResponse, …); everything else is relayed verbatim. So the scanner
 * reads just the 5-byte header of each message and hands the bytes of uninspected messages
 * on in coalesced runs — subarrays of the chunk it was given, never copies — and delivers an
 * inspected message whole, assembling it only when it straddles chunks. An inspected message
 * the consumer keeps unchanged is merged into the surrounding run, so a chunk whose messages
 * all pass is written on as the very chunk that arrived.
 *
 * Pure: no I/O. The sink writes; the scanner only frames.
 */

/** What `ScanSink.message` returns. */
export const KEEP = 0; // relay the message verbatim, merged into the current run
export const TAKEN = 1; // the sink handled it (wrote a replacement, or dropped it)
export const PAUSE = 2; // stop scanning after this message until resume()

export interface ScanSink {
  /** Relay `buf[start, end)` verbatim. The scanner never reuses `buf` afterwards. */
  pass(buf: Buffer, start: number, end: number): void;
  /**
   * A whole inspected message, header included: type byte at `buf[start]`, body from
   * `start + 5` to `end`. Before writing anything of its own the sink calls
   * `scanner.flushRun()` so that earlier bytes go out first.
   */
  message(code: number, buf: Buffer, start: number, end: number): number;
  /** The stream is not valid protocol; the scanner has stopped for good. */
  violation(reason: string): void;
}

const EMPTY = Buffer.alloc(0);

export class MessageScanner {
  /** 1 at a type code when the sink must see such messages whole. Mutable at any time. */
  readonly inspect: Uint8Array = new Uint8Array(256);
  maxMessageBytes: number;

  #sink: ScanSink;
  #chunk: Buffer = EMPTY;
  #pos = 0;
  #runStart = 0;
  #msgStart = -1;
  /** Body bytes of a relayed message still to come in later chunks. */
  #skip = 0;
  /** An inspected message being assembled across chunks. */
  #asm: Buffer | null = null;
  #asmPos = 0;
  /** A header split across chunks. */
  #hdr = Buffer.alloc(5);
  #hdrLen = 0;
  #paused = false;
  #failed = false;
  #queue: Buffer[] = [];

  constructor(sink: ScanSink, maxMessageBytes = 0x3fffffff) {
    this.#sink = sink;
    this.maxMessageBytes = maxMessageBytes;
  }

  get paused(): boolean {
    return this.#paused;
  }

  get failed(): boolean {
    return this.#failed;
  }

  /** True when no partial message is pending (a clean message boundary). */
  get atBoundary(): boolean {
    return this.#skip === 0 && this.#asm === null && this.#hdrLen === 0 && this.#pos >= this.#chunk.length && this.#queue.length === 0;
  }

  /** Feed the next chunk. While paused, chunks are queued and scanned on resume(). */
  push(chunk: Buffer): void {
    if (this.#failed) return;
    if (this.#paused || this.#pos < this.#chunk.length) {
      this.#queue.push(chunk);
      return;
    }
    this.#chunk = chunk;
    this.#pos = 0;
    this.#runStart = 0;
    this.#scan();
    this.#drainQueue();
  }

  resume(): void {
    if (!this.#paused || this.#failed) return;
    this.#paused = false;
    this.#runStart = this.#pos;
    this.#scan();
    this.#drainQueue();
  }

  /** Called by the sink inside `message()`: relays the run that precedes the current message. */
  flushRun(): void {
    if (this.#msgStart < 0) return;
    if (this.#runStart < this.#msgStart) this.#emit(this.#runStart, this.#msgStart);
    this.#runStart = this.#msgStart;
  }

  #drainQueue(): void {
    while (!this.#paused && !this.#failed && this.#queue.length > 0) {
      this.#chunk = this.#queue.shift()!;
      this.#pos = 0;
      this.#runStart = 0;
      this.#scan();
    }
  }

  #emit(start: number, end: number): void {
    const c = this.#chunk;
    if (start === 0 && end === c.length) this.#sink.pass(c, 0, end);
    else this.#sink.pass(c, start, end);
  }

  #fail(reason: string): void {
    this.#failed = true;
    this.#queue.length = 0;
    this.#sink.violation(reason);
  }

  /** Validates a header; returns the message length or -1 after failing. */
  #checkLength(length: number): number {
    if (length < 4) {
      this.#fail(`invalid message length ${length}`);
      return -1;
    }
    if (length > this.maxMessageBytes) {
      this.#fail(`message of ${length} bytes exceeds the limit of ${this.maxMessageBytes}`);
      return -1;
    }
    return length;
  }

  #scan(): void {
    const chunk = this.#chunk;
    const len = chunk.length;
    let pos = this.#pos;

    // Continue whatever straddled the previous chunk boundary.
    if (this.#skip > 0) {
      const n = Math.min(this.#skip, len - pos);
      pos += n;
      this.#skip -= n;
    } else if (this.#hdrLen > 0) {
      const n = Math.min(5 - this.#hdrLen, len - pos);
      chunk.copy(this.#hdr, this.#hdrLen, pos, pos + n);
      this.#hdrLen += n;
      pos += n;
      this.#runStart = pos;
      if (this.#hdrLen < 5) {
        this.#pos = pos;
        return;
      }
      this.#hdrLen = 0;
      const code = this.#hdr[0]!;
      const length = this.#checkLength(this.#hdr.readInt32BE(1));
      if (length < 0) return;
      if (this.inspect[code] === 1) {
        this.#asm = Buffer.allocUnsafe(length + 1);
        this.#hdr.copy(this.#asm, 0, 0, 5);
        this.#asmPos = 5;
      } else {
        // The header bytes were held back; relay them before the body that follows.
        this.#sink.pass(Buffer.from(this.#hdr), 0, 5);
        this.#skip = length - 4;
        const m = Math.min(this.#skip, len - pos);
        pos += m;
        this.#skip -= m;
      }
    }
    if (this.#asm !== null) {
      const asm = this.#asm;
      const n = Math.min(asm.length - this.#asmPos, len - pos);
      chunk.copy(asm, this.#asmPos, pos, pos + n);
      this.#asmPos += n;
      pos += n;
      this.#runStart = pos;
      if (this.#asmPos < asm.length) {
        this.#pos = pos;
        return;
      }
      this.#asm = null;
      this.#pos = pos;
      this.#msgStart = -1;
      const r = this.#sink.message(asm[0]!, asm, 0, asm.length);
      if (this.#failed) return;
      if (r === KEEP) this.#sink.pass(asm, 0, asm.length);
      else if (r === PAUSE) {
        this.#paused = true;
        return;
      }
    }

    const inspect = this.inspect;
    const max = this.maxMessageBytes;
    while (pos < len) {
      if (len - pos < 5) {
        if (this.#runStart < pos) this.#emit(this.#runStart, pos);
        chunk.copy(this.#hdr, 0, pos, len);
        this.#hdrLen = len - pos;
        this.#pos = this.#runStart = len;
        return;
      }
      const code = chunk[pos]!;
      const length = chunk.readInt32BE(pos + 1);
      if (length < 4 || length > max) {
        if (this.#runStart < pos) this.#emit(this.#runStart, pos);
        this.#checkLength(length);
        return;
      }
      const end = pos + 1 + length;
      if (inspect[code] !== 1) {
        if (end <= len) {
          pos = end;
          continue;
        }
        this.#skip = end - len;
        pos = len;
        break;
      }
      if (end > len) {
        if (this.#runStart < pos) this.#emit(this.#runStart, pos);
        const asm = Buffer.allocUnsafe(length + 1);
        chunk.copy(asm, 0, pos, len);
        this.#asm = asm;
        this.#asmPos = len - pos;
        this.#pos = this.#runStart = len;
        return;
      }
      this.#msgStart = pos;
      const r = this.#sink.message(code, chunk, pos, end);
      this.#msgStart = -1;
      if (this.#failed) return;
      pos = end;
      if (r !== KEEP) {
        this.#runStart = end;
        if (r === PAUSE) {
          this.#pos = end;
          this.#paused = true;
          return;
        }
      }
    }
    if (this.#runStart < pos) this.#emit(this.#runStart, pos);
    this.#pos = this.#runStart = pos;
  }
}
