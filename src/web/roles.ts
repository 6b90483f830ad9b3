import type { ConsoleConfig } from './console-config.js';

export type Role = 'reviewer' | 'auditor' | 'admin';

/** Console roles from a person's groups; an empty list means they may see nothing. */
export function rolesFor(groups: readonly string[], c: Pick<ConsoleConfig, 'reviewers' | 'auditors' | 'admins'>): Role[] {
  const roles: Role[] = [];
  if (groups.some((g) => c.reviewers.includes(g))) roles.push('reviewer');
  if (groups.some((g) => c.auditors.includes(g))) roles.push('auditor');
  if (groups.some((g) => c.admins.includes(g))) roles.push('admin');
  return roles;
}

/** Admins can do what reviewers and auditors can. */
export function hasRole(roles: readonly Role[], wanted: Role): boolean {
  return roles.includes(wanted) || roles.includes('admin');
}
