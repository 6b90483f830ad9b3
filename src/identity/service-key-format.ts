/** Service keys: `pcs_` and 32 random bytes in base64url (43 characters, no padding). The
 * prefix lets the identifier route without guessing and lets secret scanners find leaked keys. */
export const KEY_PREFIX = 'pcs_';
export const KEY_PATTERN = /^pcs_[A-Za-z0-9_-]{43}$/;
/** What the configuration stores instead of a key. */
export const HASH_PATTERN = /^sha256:[0-9a-f]{64}$/;
