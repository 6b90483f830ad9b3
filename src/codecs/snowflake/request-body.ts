import { gunzipSync } from 'node:zlib';

/** Why a request body was refused; each maps to one clean error response. */
export type BodyProblem = 'too_large' | 'bad_gzip' | 'bad_json';

export type DecodedBody = { readonly ok: true; readonly value: unknown } | { readonly ok: false; readonly problem: BodyProblem };

/**
 * A driver request body as JSON. snowflake-sdk gzips bodies (`Content-Encoding: gzip`, set from
 * an asynchronous callback, so the header and the bytes do not always agree): gzip is therefore
 * recognised by its magic bytes, not the header. Inflating stops at `maxBytes`, so a small gzip
 * bomb is refused without ever being expanded in memory.
 *
 * @example
 * decodeRequestBody(gzipSync('{"sqlText":"select 1"}'), 1 << 20) // { ok: true, value: { sqlText: 'select 1' } }
 */
export function decodeRequestBody(bytes: Uint8Array, maxBytes: number): DecodedBody {
  if (bytes.length > maxBytes) return { ok: false, problem: 'too_large' };
  let plain: Uint8Array = bytes;
  if (bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b) {
    try {
      plain = gunzipSync(bytes, { maxOutputLength: maxBytes });
    } catch (e) {
      return { ok: false, problem: (e as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE' ? 'too_large' : 'bad_gzip' };
    }
  }
  try {
    return { ok: true, value: JSON.parse(Buffer.from(plain.buffer, plain.byteOffset, plain.byteLength).toString('utf8')) as unknown };
  } catch {
    return { ok: false, problem: 'bad_json' };
  }
}
