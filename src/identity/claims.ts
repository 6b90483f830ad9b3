/**
 * Reading subject, groups and scopes out of a verified claims set (a JWT payload or an
 * introspection answer).
 */

type Claims = Readonly<Record<string, unknown>>;

/**
 * Follows a dotted path such as `realm_access.roles`. Claim names may themselves contain dots —
 * namespaced claims like `https://example.com/groups` — so at each level the longest claim name
 * that equals the rest of the path, or is a prefix of it followed by a dot, is taken. The rule is
 * deterministic, needs no escaping, and reads `https://example.com/app.roles` as the claim
 * `https://example.com/app` then `roles` when no claim is named by the whole string.
 *
 * @example
 * readClaim({ realm_access: { roles: ['a'] } }, 'realm_access.roles') // ['a']
 * readClaim({ 'https://example.com/groups': ['a'] }, 'https://example.com/groups') // ['a']
 */
export function readClaim(claims: Claims, path: string): unknown {
  let node: unknown = claims;
  let rest = path;
  while (rest !== '') {
    if (node === null || typeof node !== 'object' || Array.isArray(node)) return undefined;
    let best: string | undefined;
    for (const name of Object.keys(node)) {
      if ((rest === name || rest.startsWith(`${name}.`)) && (best === undefined || name.length > best.length)) best = name;
    }
    if (best === undefined) return undefined;
    node = (node as Record<string, unknown>)[best];
    rest = rest.slice(best.length + 1);
  }
  return node;
}

/** An array of strings or one space-separated string (both occur in the wild); anything else is none. */
export function toStringList(value: unknown): string[] {
  if (typeof value === 'string') return value.split(' ').filter((s) => s !== '');
  if (Array.isArray(value)) return value.filter((v): v is string => typeof v === 'string' && v !== '');
  return [];
}

/** Granted scopes: RFC 8693/9068 `scope` (space-separated) and the `scp` that Okta (array) and Entra (string) use. */
export function grantedScopes(claims: Claims): Set<string> {
  return new Set([...toStringList(claims['scope']), ...toStringList(claims['scp'])]);
}

/** The required scopes missing from the claims set, for the log line. */
export function missingScopes(claims: Claims, required: readonly string[]): string[] {
  if (required.length === 0) return [];
  const granted = grantedScopes(claims);
  return required.filter((s) => !granted.has(s));
}

/** Groups from the configured claim, deduplicated, with the source's prefix. */
export function groupsFrom(claims: Claims, path: string, prefix: string | undefined): string[] {
  const groups = [...new Set(toStringList(readClaim(claims, path)))];
  return prefix ? groups.map((g) => prefix + g) : groups;
}
