import { isIP } from 'node:net';

/**
 * Whether a peer's socket address is this machine: the only peers that may send a credential
 * without TLS, and only with `security.allow_insecure_loopback`. IPv4-mapped IPv6 addresses
 * (`::ffff:127.0.0.1`) are what a dual-stack listener reports for IPv4 peers.
 */
export function isLoopbackAddress(address: string): boolean {
  if (address === '::1') return true;
  const v4 = address.startsWith('::ffff:') ? address.slice(7) : address;
  return isIP(v4) === 4 && v4.startsWith('127.');
}
