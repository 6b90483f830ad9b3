import { MessageWriter } from './writer.js';
import { Be } from './message-codes.js';
import { writeErrorLike, type ErrorFields } from './error-fields.js';

/**
 * Builders for the messages the gateway itself sends to clients, as the server.
 * Constant messages are built once.
 */

export const SSL_ACCEPT = Buffer.from('S');
export const SSL_REFUSE = Buffer.from('N');
export const GSSENC_REFUSE = SSL_REFUSE;

export const AUTH_OK = new MessageWriter(16).begin(Be.Authentication).int32(0).end().take();
export const AUTH_CLEARTEXT = new MessageWriter(16).begin(Be.Authentication).int32(3).end().take();

export type TransactionStatus = 0x49 /* I */ | 0x54 /* T */ | 0x45 /* E */;

export function writeReadyForQuery(w: MessageWriter, status: TransactionStatus): MessageWriter {
  return w.begin(Be.ReadyForQuery).int8(status).end();
}

export function writeParameterStatus(w: MessageWriter, name: string, value: string): MessageWriter {
  return w.begin(Be.ParameterStatus).cstring(name).cstring(value).end();
}

export function writeBackendKeyData(w: MessageWriter, pid: number, secret: number): MessageWriter {
  return w.begin(Be.BackendKeyData).int32(pid).int32(secret).end();
}

export function writeErrorResponse(w: MessageWriter, f: ErrorFields): MessageWriter {
  return writeErrorLike(w, Be.ErrorResponse, f);
}

export function writeNoticeResponse(w: MessageWriter, f: ErrorFields): MessageWriter {
  return writeErrorLike(w, Be.NoticeResponse, f);
}

/** Tells a client asking for a newer minor version which one we speak and which options we ignore. */
export function writeNegotiateProtocolVersion(w: MessageWriter, newestMinor: number, unsupported: readonly string[]): MessageWriter {
  w.begin(Be.NegotiateProtocolVersion).int32((3 << 16) | newestMinor).int32(unsupported.length);
  for (const o of unsupported) w.cstring(o);
  return w.end();
}

/** ReadyForQuery status byte at the start of the body. */
export function readyStatus(buf: Buffer, start: number): number {
  return buf[start + 5]!;
}
