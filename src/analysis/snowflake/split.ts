import type { Token } from './lexer.js';

/** One statement of a message: its tokens and its text with comments blanked. */
export interface SplitStatement {
  readonly tokens: readonly Token[];
  readonly text: string;
  /** Why the statement cannot be trusted as split, e.g. a BEGIN … END block that never ends. */
  readonly error?: string | undefined;
}

/** After `BEGIN`, these make it a transaction rather than a Snowflake Scripting block. */
const TRANSACTION_WORDS: ReadonlySet<string> = new Set(['TRANSACTION', 'WORK', 'NAME']);
/** `END IF`, `END LOOP`, …: closers of constructs the splitter does not count. */
const UNCOUNTED_ENDS: ReadonlySet<string> = new Set(['IF', 'LOOP', 'FOR', 'WHILE', 'REPEAT']);

/** Whether the token at `i` opens a Snowflake Scripting block rather than a transaction. */
export function opensBlock(tokens: readonly Token[], i: number): boolean {
  const t = tokens[i];
  if (t === undefined || t.type !== 'word') return false;
  if (t.upper === 'DECLARE') return true;
  if (t.upper !== 'BEGIN') return false;
  const next = tokens[i + 1];
  return next !== undefined && !(next.type === 'op' && next.text === ';') && !(next.type === 'word' && TRANSACTION_WORDS.has(next.upper));
}

/**
 * Splits a token stream at `;`, except inside Snowflake Scripting blocks (`BEGIN … END`,
 * `DECLARE … BEGIN … END`, also after `AS` in CREATE PROCEDURE/TASK), whose inner statements
 * belong to the block. Inside a block `BEGIN` and `CASE` open and `END` closes (`END IF`,
 * `END LOOP` … close constructs that were never counted); the block ends when its first `BEGIN`
 * is closed.
 * https://docs.snowflake.com/en/developer-guide/snowflake-scripting/blocks
 */
export function splitStatements(tokens: readonly Token[], text: string): SplitStatement[] {
  const out: SplitStatement[] = [];
  let first = 0;
  let i = 0;
  const emit = (end: number, error?: string): void => {
    if (end > first) {
      const ts = tokens.slice(first, end);
      const piece = text.slice(ts[0]!.start, ts[ts.length - 1]!.end);
      out.push(error === undefined ? { tokens: ts, text: piece } : { tokens: ts, text: piece, error });
    }
  };
  while (i < tokens.length) {
    const t = tokens[i]!;
    if (t.type === 'op' && t.text === ';') {
      emit(i);
      first = i + 1;
      i++;
      continue;
    }
    const atStart = i === first;
    // A procedure or task body may be a block written without $$ delimiters.
    const body = i > first && tokens[first]!.upper === 'CREATE' && tokens[i - 1]!.type === 'word' && tokens[i - 1]!.upper === 'AS';
    if ((atStart || body) && opensBlock(tokens, i)) {
      const end = blockEnd(tokens, i);
      if (end === undefined) {
        emit(tokens.length, 'a BEGIN … END block is not closed');
        return out;
      }
      i = end;
      continue;
    }
    i++;
  }
  emit(tokens.length);
  return out;
}

/** Index just past the END that closes the block opened at `start`; undefined if it never closes. */
function blockEnd(tokens: readonly Token[], start: number): number | undefined {
  const open: string[] = [];
  for (let i = start; i < tokens.length; i++) {
    const t = tokens[i]!;
    if (t.type !== 'word') continue;
    if (t.upper === 'BEGIN' && opensBlock(tokens, i)) open.push('BEGIN');
    else if (t.upper === 'CASE') open.push('CASE');
    else if (t.upper === 'END') {
      const next = tokens[i + 1];
      if (next?.type === 'word' && UNCOUNTED_ENDS.has(next.upper)) continue;
      const closed = open.pop();
      if (next?.type === 'word' && next.upper === 'CASE') i++;
      if (closed === undefined) return undefined;
      if (open.length === 0 && closed === 'BEGIN') return i + 1;
    }
  }
  return undefined;
}
