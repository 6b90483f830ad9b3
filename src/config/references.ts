import { readFileSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import { Secret } from './secret.js';
import { PortcullisError } from '../errors/portcullis-error.js';

export interface ReferenceContext {
  env: NodeJS.ProcessEnv;
  baseDir: string;
  /** Original `${…}` texts that the loader replaced with `__pcrefN__` before YAML parsing. */
  placeholders?: readonly string[];
}

const WHOLE = /^\$\{(env|file):([^}]+)\}$/;
const ANY = /\$\{(env|file):([^}]+)\}/g;

/**
 * Replaces `${env:NAME}` and `${file:PATH}` references. A string that is exactly one reference
 * becomes a `Secret` (so it stays redacted wherever it travels); a reference embedded in a
 * longer string is substituted as text, for hosts and paths. Errors name the key, never a value.
 */
export function resolveReferences(node: unknown, ctx: ReferenceContext, path: string[] = []): unknown {
  if (typeof node === 'string') return resolveString(node, ctx, path);
  if (Array.isArray(node)) return node.map((v, i) => resolveReferences(v, ctx, [...path, String(i)]));
  if (node !== null && typeof node === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(node)) out[k] = resolveReferences(v, ctx, [...path, k]);
    return out;
  }
  return node;
}

function resolveString(raw: string, ctx: ReferenceContext, path: string[]): unknown {
  const s = ctx.placeholders && raw.includes('__pcref') ? raw.replace(/__pcref(\d+)__/g, (m, i: string) => ctx.placeholders![Number(i)] ?? m) : raw;
  const whole = WHOLE.exec(s);
  if (whole) return new Secret(lookup(whole[1]!, whole[2]!, ctx, path), `${whole[1]}:${whole[2]}`);
  if (!s.includes('${')) return s;
  return s.replace(ANY, (_m, kind: string, name: string) => lookup(kind, name, ctx, path));
}

function lookup(kind: string, name: string, ctx: ReferenceContext, path: string[]): string {
  const key = path.join('.') || '(top level)';
  if (kind === 'env') {
    const v = ctx.env[name];
    if (v === undefined || v === '') {
      throw new PortcullisError('ERR_CONFIG_SECRET_UNRESOLVED', `${key}: environment variable ${name} is not set`);
    }
    return v;
  }
  const file = isAbsolute(name) ? name : resolve(ctx.baseDir, name);
  try {
    return readFileSync(file, 'utf8').replace(/\r?\n$/, '');
  } catch (e) {
    throw new PortcullisError('ERR_CONFIG_SECRET_UNRESOLVED', `${key}: cannot read ${file} (${(e as NodeJS.ErrnoException).code ?? 'error'})`);
  }
}
