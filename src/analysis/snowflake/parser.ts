import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';

/**
 * sqlparser-rs (the `@guanmingchiu/sqlparser-ts` WASM build) with the Snowflake dialect.
 *
 * The package's own `init()`/`parse()` keep one WebAssembly instance for the process. A WASM
 * trap — a stack overflow while converting a very deep tree to JavaScript, say — leaves that
 * instance's stack pointer behind and every later call fails with "memory access out of
 * bounds". One hostile statement would then switch Snowflake analysis off for everyone. So we
 * load the package's wasm-bindgen glue ourselves, compile the module once, and keep a spare
 * instance: a trap swaps the spare in synchronously and loads the next spare in the background.
 * Each instance needs its own copy of the glue (it holds the instance in module state), which
 * a distinct import URL gives us. The analyzer's expression-depth guard keeps inputs that
 * are known to trap away from the parser; the spare is for whatever the guard misses.
 */

/** A compiled WebAssembly.Module; opaque here. */
type WasmModule = object;

/** The part of the WebAssembly global we use (not in the ES2023 lib this project compiles against). */
interface WasmApi {
  compile(bytes: Uint8Array): Promise<WasmModule>;
  readonly RuntimeError: abstract new (...args: never[]) => Error;
}

const wasmApi = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly;

interface Glue {
  initSync(options: { module: WasmModule }): unknown;
  parse_sql(dialect: string, sql: string): unknown;
}

export type ParseOutcome = { readonly ok: true; readonly statements: readonly unknown[] } | { readonly ok: false; readonly error: string };

let compiled: WasmModule | undefined;
let glueUrl: URL | undefined;
let current: Glue | undefined;
let spare: Glue | undefined;
let spareLoading: Promise<void> | undefined;
let generation = 0;
/**
 * Loaded ES modules are never unloaded, so each replaced instance stays in memory. Past this
 * many replacements the parser stays down and every statement is `unknown` (fail closed).
 */
const MAX_INSTANCES = 34;
let loading: Promise<void> | undefined;

/** Loads and compiles the parser once per process; later calls return the same promise. */
export function loadSnowflakeParser(): Promise<void> {
  loading ??= (async () => {
    const entry = createRequire(import.meta.url).resolve('@guanmingchiu/sqlparser-ts');
    const base = pathToFileURL(entry);
    glueUrl = new URL('../wasm/sqlparser_rs_wasm.js', base);
    compiled = await wasmApi.compile(await readFile(new URL('../wasm/sqlparser_rs_wasm_bg.wasm', base)));
    current = await instantiate();
    await loadSpare();
  })();
  return loading;
}

async function instantiate(): Promise<Glue> {
  const glue = (await import(`${glueUrl!.href}?instance=${++generation}`)) as Glue;
  glue.initSync({ module: compiled! });
  return glue;
}

function loadSpare(): Promise<void> {
  if (generation >= MAX_INSTANCES) return Promise.resolve();
  spareLoading ??= instantiate().then(
    (g) => {
      spareLoading = undefined;
      if (current === undefined) {
        current = g;
        void loadSpare();
      } else spare = g;
    },
    () => {
      spareLoading = undefined;
    },
  );
  return spareLoading;
}

/**
 * Parses `sql` with the Snowflake dialect. Never throws: a syntax error, a parser that is not
 * loaded yet, or a trap (after which the spare instance takes over) come back as errors.
 */
export function parseSnowflake(sql: string): ParseOutcome {
  const glue = current;
  if (glue === undefined) {
    const error = compiled === undefined ? 'the Snowflake parser is not loaded (await createSnowflakeAnalyzer() first)' : 'the Snowflake parser is restarting after an error; retry';
    return { ok: false, error };
  }
  try {
    const statements = glue.parse_sql('snowflake', sql);
    return Array.isArray(statements) ? { ok: true, statements } : { ok: false, error: 'the parser returned no statement list' };
  } catch (e) {
    if (e instanceof wasmApi.RuntimeError || e instanceof RangeError) {
      current = spare;
      spare = undefined;
      void loadSpare();
      return { ok: false, error: `the parser gave up on this statement (${e.message})` };
    }
    return { ok: false, error: parserMessage(e) };
  }
}

function parserMessage(e: unknown): string {
  if (typeof e === 'string') return e;
  if (typeof e === 'object' && e !== null && typeof (e as { message?: unknown }).message === 'string') return (e as { message: string }).message;
  return String(e);
}
