import type { IncomingMessage } from 'node:http';
import type { z } from 'zod';
import { decodeRequestBody } from '../../codecs/snowflake/request-body.js';
import { PortcullisError } from '../../errors/portcullis-error.js';
import { readBodyBytes } from '../http/request-body.js';

/**
 * A request body, gzip or plain JSON, checked against `schema`. The raw bytes and the inflated
 * text are each capped at `limit`: a declared Content-Length over it is refused before reading,
 * a body that grows past it is cut off, and a gzip bomb stops inflating at the cap. An empty
 * body is `{}` (heartbeat, logout and abort requests often send none). Errors name the field,
 * never its value.
 */
export async function readBody<S extends z.ZodType>(req: IncomingMessage, limit: number, schema: S): Promise<z.infer<S>> {
  const body = await readBodyBytes(req, limit);
  let value: unknown = {};
  if (body.length > 0) {
    const decoded = decodeRequestBody(body, limit);
    if (!decoded.ok) {
      if (decoded.problem === 'too_large') throw inflatedTooLarge(limit);
      throw new PortcullisError('ERR_PROTOCOL_VIOLATION', decoded.problem === 'bad_gzip' ? 'the request body is not valid gzip' : 'the request body is not valid JSON');
    }
    value = decoded.value;
  }
  const parsed = schema.safeParse(value);
  if (!parsed.success) {
    const issues = parsed.error.issues
      .slice(0, 3)
      .map((i) => `${i.path.map(String).join('.').slice(0, 80) || '(body)'}: ${i.message.slice(0, 120)}`)
      .join('; ');
    throw new PortcullisError('ERR_PROTOCOL_VIOLATION', `invalid request body: ${issues}`);
  }
  return parsed.data as z.infer<S>;
}

function inflatedTooLarge(limit: number): PortcullisError {
  return new PortcullisError('ERR_MESSAGE_TOO_LARGE', `the request body is larger than ${limit} bytes (compressed or inflated)`);
}
