import { createHash, createPrivateKey, createPublicKey, sign, verify, type KeyObject } from 'node:crypto';
import { canonicalJson } from './canonical-json.js';
import { PortcullisError } from '../errors/portcullis-error.js';
import type { Secret } from '../config/secret.js';

/**
 * A checkpoint commits to the whole chain up to `seq` (its `hash` covers every earlier event).
 * Checkpoints are always written — they are the segment boundaries retention deletes along —
 * and, with `audit.signing_key`, Ed25519-signed: whoever can write the store but does not hold
 * the key cannot rewrite the chain and re-sign it.
 */
export interface CheckpointRow {
  readonly seq: number;
  readonly hash: string;
  readonly timeMs: number;
  /** First 16 hex digits of SHA-256 over the public key (SPKI DER); null when unsigned. */
  readonly keyId: string | null;
  /** Base64 Ed25519 signature over `checkpointPayload`; null when unsigned. */
  readonly signature: string | null;
}

/** Written by retention: the last deleted event. Verification starts after it. Same fields, same signature. */
export type AnchorRow = CheckpointRow;

export function checkpointPayload(seq: number, hash: string, timeMs: number): Buffer {
  return Buffer.from(canonicalJson({ purpose: 'portcullis-audit-checkpoint', seq, hash, time: timeMs }));
}

export function keyIdOf(publicKey: KeyObject): string {
  return createHash('sha256').update(publicKey.export({ format: 'der', type: 'spki' })).digest('hex').slice(0, 16);
}

export interface CheckpointSigner {
  readonly keyId: string;
  readonly publicKey: KeyObject;
  sign(seq: number, hash: string, timeMs: number): string;
}

/** Reads an Ed25519 private key (PEM) from config; errors never echo the key. */
export function createSigner(pem: Secret): CheckpointSigner {
  let key: KeyObject;
  try {
    key = createPrivateKey(pem.reveal());
  } catch {
    throw new PortcullisError('ERR_CONFIG_INVALID', `audit.signing_key (${pem.source}) is not a PEM private key`);
  }
  if (key.asymmetricKeyType !== 'ed25519') {
    throw new PortcullisError('ERR_CONFIG_INVALID', `audit.signing_key (${pem.source}) must be an Ed25519 key (openssl genpkey -algorithm ed25519), not ${key.asymmetricKeyType ?? 'unknown'}`);
  }
  const publicKey = createPublicKey(key);
  return {
    keyId: keyIdOf(publicKey),
    publicKey,
    sign: (seq, hash, timeMs) => sign(null, checkpointPayload(seq, hash, timeMs), key).toString('base64'),
  };
}

/** A public key (PEM) for verifiers that must not hold the private key; a private key works too. */
export function loadPublicKey(pem: string, origin: string): KeyObject {
  try {
    const k = createPublicKey(pem);
    if (k.asymmetricKeyType !== 'ed25519') throw new Error('not ed25519');
    return k;
  } catch {
    throw new PortcullisError('ERR_CONFIG_INVALID', `${origin} is not an Ed25519 public or private key in PEM form`);
  }
}

export function checkSignature(publicKey: KeyObject, c: CheckpointRow): boolean {
  if (c.signature === null) return false;
  try {
    return verify(null, checkpointPayload(c.seq, c.hash, c.timeMs), publicKey, Buffer.from(c.signature, 'base64'));
  } catch {
    return false;
  }
}
