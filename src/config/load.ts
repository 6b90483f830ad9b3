import { readFileSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import { parse as parseYaml, YAMLParseError } from 'yaml';
import type { z } from 'zod';
import { configSchema, type Config } from './schema.js';
import { resolveReferences } from './references.js';
import { PortcullisError } from '../errors/portcullis-error.js';

/** Reads, resolves and validates a config file; every problem names the key and what is wrong. */
export function loadConfigFile(path: string, env: NodeJS.ProcessEnv = process.env): Config {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new PortcullisError('ERR_CONFIG_INVALID', `cannot read config file ${path}: ${(e as NodeJS.ErrnoException).code ?? 'error'}`);
  }
  return parseConfig(text, { env, baseDir: dirname(resolve(path)), origin: path });
}

export function parseConfig(text: string, opts: { env?: NodeJS.ProcessEnv; baseDir?: string; origin?: string } = {}): Config {
  const origin = opts.origin ?? 'config';
  // `${…}` is not a plain scalar inside YAML flow mappings (`{ secret: ${env:KEY} }`), yet that
  // is the natural way to write it; references are swapped for inert placeholders before parsing.
  const refs: string[] = [];
  const yamlText = text.replace(/\$\{(?:env|file):[^}\n]+\}/g, (m) => `__pcref${refs.push(m) - 1}__`);
  let raw: unknown;
  try {
    raw = parseYaml(yamlText, { prettyErrors: true, uniqueKeys: true });
  } catch (e) {
    const where = e instanceof YAMLParseError && e.linePos?.[0] ? ` at line ${e.linePos[0].line}, column ${e.linePos[0].col}` : '';
    throw new PortcullisError('ERR_CONFIG_INVALID', `${origin}: not valid YAML${where}: ${e instanceof YAMLParseError ? e.code : 'parse error'}`);
  }
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
    throw new PortcullisError('ERR_CONFIG_INVALID', `${origin}: the top level must be a mapping (listen:, connections:, …)`);
  }
  const ctx = { env: opts.env ?? process.env, baseDir: opts.baseDir ?? process.cwd() };
  const resolved = resolveReferences(raw, { ...ctx, placeholders: refs }) as Record<string, unknown>;
  // `policy: FILE` keeps the rules in their own file (owned by a different team, reviewed apart).
  if (typeof resolved.policy === 'string') resolved.policy = readPolicyFile(resolved.policy, ctx, origin);
  return validateConfig(resolved, origin);
}

function readPolicyFile(path: string, ctx: { env: NodeJS.ProcessEnv; baseDir: string }, origin: string): unknown {
  const file = isAbsolute(path) ? path : resolve(ctx.baseDir, path);
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new PortcullisError('ERR_CONFIG_INVALID', `${origin}: policy: cannot read policy file ${file} (${(e as NodeJS.ErrnoException).code ?? 'error'})`);
  }
  const refs: string[] = [];
  let raw: unknown;
  try {
    raw = parseYaml(text.replace(/\$\{(?:env|file):[^}\n]+\}/g, (m) => `__pcref${refs.push(m) - 1}__`), { uniqueKeys: true });
  } catch (e) {
    const where = e instanceof YAMLParseError && e.linePos?.[0] ? ` at line ${e.linePos[0].line}, column ${e.linePos[0].col}` : '';
    throw new PortcullisError('ERR_CONFIG_INVALID', `${file}: not valid YAML${where}`);
  }
  // The file may hold the policy itself or a document with a top-level `policy:` key.
  const body = raw !== null && typeof raw === 'object' && 'policy' in raw ? (raw as { policy: unknown }).policy : raw;
  return resolveReferences(body, { env: ctx.env, baseDir: dirname(file), placeholders: refs });
}

export function validateConfig(raw: unknown, origin = 'config'): Config {
  const result = configSchema.safeParse(raw);
  if (!result.success) {
    throw new PortcullisError('ERR_CONFIG_INVALID', `${origin} is invalid:\n${formatIssues(result.error.issues)}`);
  }
  return result.data;
}

/** One line per problem: `  - connections.warehouse.url: must be a postgres:// URL`. Values are never echoed. */
export function formatIssues(issues: readonly z.core.$ZodIssue[]): string {
  return issues
    .map((i) => {
      const key = i.path.length ? i.path.map(String).join('.') : '(top level)';
      let msg = i.message;
      if (i.code === 'unrecognized_keys') msg = `unknown key(s): ${i.keys.join(', ')}`;
      else if (i.code === 'invalid_type' && /received undefined/.test(i.message)) msg = `is required (${i.expected})`;
      return `  - ${key}: ${msg}`;
    })
    .join('\n');
}
