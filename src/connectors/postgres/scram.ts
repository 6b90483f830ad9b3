/**
 * SCRAM-SHA-256 client as a pure state machine (no I/O): the handshake feeds it the server's
 * SASL payloads and sends what it returns. RFC 5802 (SCRAM), RFC 7677 (SHA-256 variant), and
 * PostgreSQL's use of them: https://www.postgresql.org/docs/current/sasl-authentication.html
 *
 * Channel binding (-PLUS) is deliberately not offered: the gs2 header is always `n,,`.
 *
 * @example
 *   const scram = new ScramSha256Client(password);
 *   send(SASLInitialResponse('SCRAM-SHA-256', scram.clientFirstMessage()));
 *   send(SASLResponse(scram.serverFirst(saslContinueData)));
 *   scram.serverFinal(saslFinalData); // throws unless the server proved it knows the password
 */
import { createHash, createHmac, pbkdf2Sync, randomBytes, timingSafeEqual } from 'node:crypto';

export const SCRAM_SHA_256 = 'SCRAM-SHA-256';

/** Iteration counts outside this range are refused: too few is a downgrade, too many a CPU-burn attack. */
export const MIN_ITERATIONS = 1000;
export const MAX_ITERATIONS = 10_000_000;

const GS2_HEADER = 'n,,';
const CHANNEL_BINDING = Buffer.from(GS2_HEADER).toString('base64'); // "biws"

/** A SCRAM exchange failed; the message never contains the password or derived keys. */
export class ScramError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ScramError';
  }
}

type State = 'initial' | 'first-sent' | 'final-sent' | 'verified';

export class ScramSha256Client {
  readonly mechanism = SCRAM_SHA_256;
  #state: State = 'initial';
  #password: string | undefined;
  readonly #clientNonce: string;
  readonly #user: string;
  #clientFirstBare = '';
  #serverSignature: Buffer | undefined;

  /**
   * `user` defaults to empty, as libpq sends it: PostgreSQL ignores the SCRAM username and uses
   * the one from the StartupMessage. `nonce` is for test vectors only.
   */
  constructor(password: string, opts: { user?: string; nonce?: string } = {}) {
    this.#password = password;
    this.#user = opts.user ?? '';
    this.#clientNonce = opts.nonce ?? randomBytes(18).toString('base64');
    if (!isPrintable(this.#clientNonce)) throw new TypeError('SCRAM nonce must be printable ASCII without commas');
  }

  get verified(): boolean {
    return this.#state === 'verified';
  }

  clientFirstMessage(): string {
    if (this.#state !== 'initial') throw new ScramError('client-first-message already sent');
    this.#clientFirstBare = `n=${saslName(this.#user)},r=${this.#clientNonce}`;
    this.#state = 'first-sent';
    return GS2_HEADER + this.#clientFirstBare;
  }

  /** Takes server-first-message, returns client-final-message (with the proof). */
  serverFirst(message: string): string {
    if (this.#state !== 'first-sent') throw new ScramError('unexpected server-first-message');
    const parts = message.split(',');
    if (parts[0]?.startsWith('m=')) throw new ScramError('server requires an unsupported SCRAM extension');
    const nonce = attribute(parts[0], 'r');
    const saltB64 = attribute(parts[1], 's');
    const iterText = attribute(parts[2], 'i');

    // The server's nonce must extend ours; otherwise this is a replay or a different exchange.
    if (!nonce.startsWith(this.#clientNonce) || nonce.length <= this.#clientNonce.length || !isPrintable(nonce)) {
      throw new ScramError('server nonce does not extend the client nonce');
    }
    if (!isBase64(saltB64)) throw new ScramError('server salt is not valid base64');
    const salt = Buffer.from(saltB64, 'base64');
    if (salt.length === 0) throw new ScramError('server salt is empty');
    if (!/^[1-9][0-9]{0,9}$/.test(iterText)) throw new ScramError('server iteration count is not a positive integer');
    const iterations = Number(iterText);
    if (iterations < MIN_ITERATIONS || iterations > MAX_ITERATIONS) {
      throw new ScramError(`server iteration count ${iterations} is outside ${MIN_ITERATIONS}..${MAX_ITERATIONS}`);
    }

    const password = this.#password ?? '';
    this.#password = undefined;
    const salted = pbkdf2Sync(Buffer.from(saslPrep(password), 'utf8'), salt, iterations, 32, 'sha256');
    const clientKey = hmac(salted, 'Client Key');
    const storedKey = createHash('sha256').update(clientKey).digest();
    const finalWithoutProof = `c=${CHANNEL_BINDING},r=${nonce}`;
    const authMessage = `${this.#clientFirstBare},${message},${finalWithoutProof}`;
    const clientSignature = hmac(storedKey, authMessage);
    const proof = Buffer.alloc(clientKey.length);
    for (let i = 0; i < proof.length; i++) proof[i] = clientKey[i]! ^ clientSignature[i]!;
    this.#serverSignature = hmac(hmac(salted, 'Server Key'), authMessage);
    this.#state = 'final-sent';
    return `${finalWithoutProof},p=${proof.toString('base64')}`;
  }

  /**
   * Checks server-final-message. A server (or a man in the middle) that cannot produce the
   * signature does not know the password's verifier, so the session is refused.
   */
  serverFinal(message: string): void {
    if (this.#state !== 'final-sent' || !this.#serverSignature) throw new ScramError('unexpected server-final-message');
    const first = message.split(',')[0] ?? '';
    if (first.startsWith('e=')) throw new ScramError(`server rejected the SCRAM exchange: ${first.slice(2).replace(/[^\x20-\x7e]/g, '?')}`);
    const v = attribute(first, 'v');
    if (!isBase64(v)) throw new ScramError('server signature is not valid base64');
    const got = Buffer.from(v, 'base64');
    if (got.length !== this.#serverSignature.length || !timingSafeEqual(got, this.#serverSignature)) {
      throw new ScramError('server signature does not match: the server could not prove it knows the password');
    }
    this.#state = 'verified';
  }
}

function hmac(key: Buffer, data: string): Buffer {
  return createHmac('sha256', key).update(data, 'utf8').digest();
}

function attribute(part: string | undefined, name: string): string {
  if (part === undefined || !part.startsWith(`${name}=`)) throw new ScramError(`SCRAM message is missing attribute '${name}'`);
  return part.slice(2);
}

/** RFC 5802 §5.1: `=` and `,` in a username are escaped as `=3D` and `=2C`. */
function saslName(s: string): string {
  return s.replace(/=/g, '=3D').replace(/,/g, '=2C');
}

function isPrintable(s: string): boolean {
  return /^[\x21-\x2b\x2d-\x7e]+$/.test(s);
}

function isBase64(s: string): boolean {
  return s.length > 0 && s.length % 4 === 0 && /^[A-Za-z0-9+/]+={0,2}$/.test(s);
}

// RFC 3454 tables used by SASLprep (RFC 4013).
/** C.1.2 non-ASCII space characters: mapped to U+0020. */
const NON_ASCII_SPACE = /[\u00a0\u1680\u2000-\u200b\u202f\u205f\u3000]/gu;
/** B.1 "commonly mapped to nothing". */
const MAPPED_TO_NOTHING = /[\u00ad\u034f\u1806\u180b-\u180d\u200c\u200d\u2060\ufe00-\ufe0f\ufeff]/gu;
/** C.2–C.9 prohibited output: controls, private use, non-characters, surrogates, bidi/tag controls. */
const PROHIBITED =
  /[\u0000-\u001f\u007f-\u009f\u0340\u0341\u06dd\u070f\u180e\u200e\u200f\u2028-\u202e\u2060-\u2063\u206a-\u206f\u2ff0-\u2ffb\ud800-\udfff\ue000-\uf8ff\ufdd0-\ufdef\ufff9-\ufffd\ufffe\uffff\u{1d173}-\u{1d17a}\u{e0001}\u{e0020}-\u{e007f}\u{f0000}-\u{ffffd}\u{100000}-\u{10fffd}]|[\u{1fffe}\u{1ffff}\u{2fffe}\u{2ffff}\u{3fffe}\u{3ffff}\u{4fffe}\u{4ffff}\u{5fffe}\u{5ffff}\u{6fffe}\u{6ffff}\u{7fffe}\u{7ffff}\u{8fffe}\u{8ffff}\u{9fffe}\u{9ffff}\u{afffe}\u{affff}\u{bfffe}\u{bffff}\u{cfffe}\u{cffff}\u{dfffe}\u{dffff}\u{efffe}\u{effff}]/u;

/**
 * SASLprep (RFC 4013) as PostgreSQL applies it to SCRAM passwords: ASCII passes unchanged;
 * otherwise map non-ASCII spaces to SPACE, drop "mapped to nothing" characters, NFKC-normalize.
 * If the result contains a prohibited character, PostgreSQL falls back to the raw password,
 * and so do we, so both sides derive the same key.
 *
 * Simplification: the unassigned-code-point table (A.1) and the bidirectional check (§6 of
 * RFC 3454) are not applied. PostgreSQL would fall back to the raw password for such inputs
 * (unassigned characters, mixed right-to-left/left-to-right text) where we normalize; a
 * password of that kind may then fail to authenticate, never authenticate wrongly.
 */
export function saslPrep(password: string): string {
  if (/^[\x00-\x7f]*$/.test(password)) return password;
  const prepared = password.replace(NON_ASCII_SPACE, ' ').replace(MAPPED_TO_NOTHING, '').normalize('NFKC');
  if (PROHIBITED.test(prepared)) return password;
  return prepared;
}
