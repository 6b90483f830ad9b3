import { createHash } from 'node:crypto';

const md5hex = (data: string | Buffer): string => createHash('md5').update(data).digest('hex');

/**
 * The response to AuthenticationMD5Password: `'md5' + md5(md5(password + user) + salt)` in
 * lowercase hex, the inner digest as its 32 ASCII hex characters and the salt as raw bytes.
 * https://www.postgresql.org/docs/current/protocol-flow.html#PROTOCOL-FLOW-START-UP
 *
 * MD5 is weak and PostgreSQL deprecates it; the gateway supports it only because older
 * servers still ask for it. The server chooses the method, not us.
 */
export function md5PasswordResponse(user: string, password: string, salt: Uint8Array): string {
  if (salt.length !== 4) throw new TypeError('md5 salt must be 4 bytes');
  const inner = md5hex(Buffer.from(password + user, 'utf8'));
  return 'md5' + md5hex(Buffer.concat([Buffer.from(inner, 'latin1'), salt]));
}
