import type { IncomingMessage } from 'node:http';
import { PortcullisError } from '../../errors/portcullis-error.js';

/**
 * Reads a JSON request body of at most `limit` bytes. A declared Content-Length over the limit
 * is refused before any byte is read; a body that grows past it is cut off.
 */
export async function readJsonBody(req: IncomingMessage, limit: number): Promise<unknown> {
  const type = req.headers['content-type'] ?? '';
  if (!/^application\/(?:[\w.+-]+\+)?json\b/i.test(type)) {
    throw new PortcullisError('ERR_PROTOCOL_VIOLATION', 'send the request body as JSON with Content-Type: application/json');
  }
  const body = await readBodyBytes(req, limit);
  try {
    return JSON.parse(body.toString('utf8')) as unknown;
  } catch {
    throw new PortcullisError('ERR_PROTOCOL_VIOLATION', 'the request body is not valid JSON');
  }
}

/**
 * The raw bytes of a request body of at most `limit` bytes. A declared Content-Length over the
 * limit is refused before any byte is read; a body that grows past it is cut off.
 */
export async function readBodyBytes(req: IncomingMessage, limit: number): Promise<Buffer> {
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > limit) throw tooLarge(limit);
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limit) throw tooLarge(limit);
    chunks.push(chunk);
  }
  return Buffer.concat(chunks, size);
}

function tooLarge(limit: number): PortcullisError {
  return new PortcullisError('ERR_MESSAGE_TOO_LARGE', `the request body is larger than ${limit} bytes`);
}
