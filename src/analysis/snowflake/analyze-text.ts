import { aggregate, mergeFacts } from '../aggregate.js';
import { FactCollector } from '../collector.js';
import type { Analysis, StatementFacts } from '../facts.js';
import { AstWalker, WalkLimit } from './ast-walk.js';
import { Tokens, type Command, type Embedded } from './command.js';
import { classifyCommand } from './commands.js';
import { MAX_EXPRESSION_DEPTH, expressionDepth } from './expression-depth.js';
import { lex } from './lexer.js';
import { parseSnowflake } from './parser.js';
import { splitStatements } from './split.js';
import { sweepTokens } from './token-sweep.js';

/** One analyzed message as the cache stores it. */
export interface SnowflakeAnalyzedText {
  readonly analysis: Analysis;
  /** Per statement, the schema a USE switched to (undefined where it switched none). */
  readonly schemas: readonly (string | undefined)[] | undefined;
}

interface Analyzed {
  readonly facts: StatementFacts;
  readonly schema?: string | undefined;
}

function unknownFacts(error: string, unparseable: boolean): StatementFacts {
  return { kind: 'unknown', tag: 'UNKNOWN', reads: [], writes: [], functions: [], risks: unparseable ? ['unparseable'] : [], error };
}

/** EXECUTE IMMEDIATE of EXECUTE IMMEDIATE of …: past this depth the statement is `unknown`. */
const MAX_NESTING = 8;
/**
 * Each statement costs a parser call. A message holding more than this many, counting those
 * inside blocks, EXECUTE IMMEDIATE and bodies, is `unknown` rather than a long stall.
 */
const MAX_STATEMENTS = 1_000;

/** Statements left to analyze in the current message. */
interface Budget {
  left: number;
}

/** Analyzes `sql` with no cache and no session. Never throws. */
export function analyzeSnowflakeText(sql: string, maxLength: number): SnowflakeAnalyzedText {
  if (sql.length > maxLength) return single(unknownFacts(`the text is ${sql.length} characters long, more than the ${maxLength} the analyzer reads`, false));
  try {
    const results = analyzeAll(sql, 0, { left: MAX_STATEMENTS });
    const schemas = results.some((r) => r.schema !== undefined) ? results.map((r) => r.schema) : undefined;
    return { analysis: aggregate(results.map((r) => r.facts)), schemas };
  } catch (e) {
    return single(unknownFacts(`the analyzer failed on this statement: ${e instanceof Error ? e.message : String(e)}`, false));
  }
}

function single(f: StatementFacts): SnowflakeAnalyzedText {
  return { analysis: aggregate([f]), schemas: undefined };
}

function analyzeAll(sql: string, depth: number, budget: Budget): Analyzed[] {
  const lexed = lex(sql);
  if (lexed.error !== undefined) return [{ facts: unknownFacts(`the text could not be read: ${lexed.error}`, true) }];
  const statements = splitStatements(lexed.tokens, lexed.text);
  if (statements.length > budget.left) return [{ facts: unknownFacts(TOO_MANY, false) }];
  return statements.map((s) => {
    if (s.error !== undefined) return { facts: unknownFacts(s.error, true) };
    return chained(new Tokens(s.tokens, lexed.text), depth, budget);
  });
}

/**
 * `SHOW TABLES ->> SELECT …`: Snowflake's flow operator runs each statement in turn, so the
 * statement is all of them.
 * https://docs.snowflake.com/en/sql-reference/operators-flow
 */
function chained(t: Tokens, depth: number, budget: Budget): Analyzed {
  const cuts: number[] = [];
  let parens = 0;
  for (let i = 0; i < t.length; i++) {
    if (t.op(i, '(')) parens++;
    else if (t.op(i, ')')) parens--;
    else if (parens === 0 && t.op(i, '->>')) cuts.push(i);
  }
  if (cuts.length === 0) return statement(t, depth, budget);
  let merged: StatementFacts | undefined;
  let from = 0;
  for (const cut of [...cuts, t.length]) {
    const part = statement(new Tokens(t.list.slice(from, cut), t.source), depth, budget);
    const facts = part.schema === undefined ? part.facts : mergeFacts(part.facts, unknownFacts('USE inside a ->> chain is not supported', false));
    merged = merged === undefined ? facts : mergeFacts(merged, facts);
    from = cut + 1;
  }
  return { facts: merged! };
}

const TOO_MANY = `the text holds more than the ${MAX_STATEMENTS} statements the analyzer reads in one message`;

function statement(t: Tokens, depth: number, budget: Budget): Analyzed {
  if (t.length === 0) return { facts: unknownFacts('an empty statement in a ->> chain', true) };
  if (--budget.left < 0) return { facts: unknownFacts(TOO_MANY, false) };
  const cmd = classifyCommand(t);
  if (cmd === undefined) {
    const start = t.list.slice(0, 3).map((x) => x.text.slice(0, 40)).join(' ');
    return { facts: unknownFacts(`"${start}" does not begin a Snowflake statement the analyzer recognizes`, true) };
  }
  const c = new FactCollector(0);
  c.escalate(cmd.kind);
  for (const r of cmd.risks) c.risks.add(r);
  for (const r of cmd.reads ?? []) c.reads.add(r);
  for (const w of cmd.writes ?? []) c.writes.add(w);
  sweepTokens(t, c, cmd.ddl === true);
  let tag = cmd.tag;
  if (cmd.error !== undefined) c.fail(cmd.error);
  else if (cmd.parse !== undefined) tag = parsed(t, cmd, c) ?? tag;
  for (const e of cmd.embedded ?? []) embedded(e, c, depth, budget);
  return { facts: c.facts(tag), schema: cmd.schema };
}

/** Parses the statement and walks its tree into `c`; returns the tag its parser variant gives. */
function parsed(t: Tokens, cmd: Command, c: FactCollector): string | undefined {
  const depth = expressionDepth(t.list);
  if (depth > MAX_EXPRESSION_DEPTH) {
    c.fail(`the statement chains ${depth} operators at one level, more than the ${MAX_EXPRESSION_DEPTH} the analyzer reads`);
    return undefined;
  }
  const r = parseSnowflake(t.text(0));
  if (!r.ok) {
    c.risks.add('unparseable');
    c.fail(`the statement could not be parsed: ${r.error}`);
    return undefined;
  }
  const stmt = r.statements[0];
  const variant = r.statements.length === 1 && typeof stmt === 'object' && stmt !== null ? Object.keys(stmt)[0] : undefined;
  const spec = variant === undefined ? undefined : cmd.parse![variant];
  if (spec === undefined) {
    // The parser read the text as something else than its keywords say: trust neither.
    c.fail(`the parser read this ${cmd.tag} statement as ${r.statements.length === 1 ? (variant ?? 'nothing') : `${r.statements.length} statements`}`);
    return undefined;
  }
  c.escalate(spec.kind);
  const walker = new AstWalker(c);
  try {
    walker.statement(stmt);
  } catch (e) {
    if (!(e instanceof WalkLimit) && !(e instanceof RangeError)) throw e;
    c.fail(e.message);
  }
  return spec.tag === 'SELECT' && walker.nested !== undefined ? walker.nested : spec.tag;
}

const INNER = 'SQL inside this statement cannot be analyzed: ';

function embedded(e: Embedded, c: FactCollector, depth: number, budget: Budget): void {
  if (depth + 1 > MAX_NESTING) {
    if (e.mode !== 'later') c.fail(`SQL nested more than ${MAX_NESTING} levels deep is not analyzed`);
    return;
  }
  for (const inner of analyzeAll(e.text, depth + 1, budget)) {
    const f = inner.facts;
    for (const r of f.reads) c.reads.add(r);
    for (const w of f.writes) c.writes.add(w);
    for (const fn of f.functions) c.functions.add(fn);
    for (const r of f.risks) if (e.mode !== 'later' || r !== 'unparseable') c.risks.add(r);
    if (e.mode === 'later') continue;
    if (f.kind === 'unknown') c.fail(f.error?.startsWith(INNER) === true ? f.error : `${INNER}${f.error ?? 'unknown statement'}`);
    else if (inner.schema !== undefined) c.fail('a USE inside this statement changes what later names mean; send it on its own');
    else if (e.mode === 'now') c.escalate(f.kind);
  }
}
