import { BodyReader, ProtocolError } from './body-reader.js';
import { StartupCode } from './message-codes.js';

/**
 * The untyped packets a client may send before its first typed message.
 * https://www.postgresql.org/docs/current/protocol-flow.html#PROTOCOL-FLOW-START-UP
 */
export type StartupPacket =
  | { type: 'startup'; major: number; minor: number; params: Map<string, string> }
  | { type: 'ssl' }
  | { type: 'gssenc' }
  | { type: 'cancel'; pid: number; secret: number };

/** Startup packets are small; PostgreSQL itself caps them at 10000 bytes. */
export const MAX_STARTUP_PACKET = 10000;

/**
 * Returns the length of the packet at the front of `buf` when it is complete, 0 when more
 * bytes are needed; throws ProtocolError for a length no valid packet has.
 */
export function startupPacketLength(buf: Buffer): number {
  if (buf.length < 4) return 0;
  const len = buf.readInt32BE(0);
  if (len < 8 || len > MAX_STARTUP_PACKET) throw new ProtocolError(`invalid startup packet length ${len}`);
  return buf.length >= len ? len : 0;
}

export function parseStartupPacket(buf: Buffer, len: number): StartupPacket {
  const r = new BodyReader(buf, 4, len);
  const code = r.int32();
  switch (code) {
    case StartupCode.SSLRequest:
      if (len !== 8) throw new ProtocolError('SSLRequest has the wrong length');
      return { type: 'ssl' };
    case StartupCode.GSSENCRequest:
      if (len !== 8) throw new ProtocolError('GSSENCRequest has the wrong length');
      return { type: 'gssenc' };
    case StartupCode.CancelRequest: {
      if (len !== 16) throw new ProtocolError('CancelRequest has the wrong length');
      const pid = r.int32();
      const secret = r.int32();
      return { type: 'cancel', pid, secret };
    }
  }
  const major = code >>> 16;
  const minor = code & 0xffff;
  const params = new Map<string, string>();
  if (major === 3) {
    for (;;) {
      if (r.remaining <= 0) throw new ProtocolError('startup parameters are not terminated');
      const name = r.cstring();
      if (name === '') break;
      const value = r.cstring();
      if (params.has(name)) throw new ProtocolError(`startup parameter ${JSON.stringify(name)} given twice`);
      params.set(name, value);
    }
    if (r.remaining !== 0) throw new ProtocolError('bytes after the startup parameters');
  }
  return { type: 'startup', major, minor, params };
}
