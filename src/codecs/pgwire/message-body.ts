/**
 * A message's body (the bytes after its 5-byte header) kept to recognize the same message
 * later: a connection repeats one RowDescription per statement shape, and comparing bytes
 * costs no string and no hash, where a map key would cost both.
 */

/** A copy of the body of the message at `buf[start, end)`: the scanner's buffer is reused. */
export function copyBody(buf: Buffer, start: number, end: number): Buffer {
  return Buffer.from(buf.subarray(start + 5, end));
}

/** Whether the message at `buf[start, end)` has exactly the body `body`. */
export function sameBody(body: Buffer, buf: Buffer, start: number, end: number): boolean {
  return body.length === end - start - 5 && buf.compare(body, 0, body.length, start + 5, end) === 0;
}
