import type { RiskFlag, StatementKind } from '../facts.js';
import type { Token } from './lexer.js';

/**
 * What the leading keywords of a statement say it is. Snowflake commands are keyword-led
 * (`CREATE [OR REPLACE] <object type> <name> …`), so the command is decided from tokens; the
 * parser, where it is asked, only adds the relations and functions inside.
 */
export interface Command {
  readonly kind: StatementKind;
  readonly tag: string;
  readonly risks: readonly RiskFlag[];
  readonly reads?: readonly string[];
  readonly writes?: readonly string[];
  /**
   * The statement must parse, as one of these parser statement variants, and its tree is walked
   * for relations and functions. The variant decides kind and tag.
   */
  readonly parse?: Readonly<Record<string, { readonly kind: StatementKind; readonly tag: string }>>;
  /** SQL held inside this statement that is analyzed as well. */
  readonly embedded?: readonly Embedded[];
  /** Set when the command is recognized but what it does cannot be known: the statement is `unknown`. */
  readonly error?: string;
  /** CREATE/ALTER: option words such as DATA_RETENTION_TIME_IN_DAYS carry risks here. */
  readonly ddl?: boolean;
  /** USE DATABASE / SCHEMA: the schema unqualified names resolve to from the next statement on. */
  readonly schema?: string;
}

/**
 * SQL inside a statement. `now` runs as part of it (EXECUTE IMMEDIATE, a block, CREATE TABLE AS):
 * everything counts, and if it cannot be analyzed neither can the statement. `plan` is looked at
 * but not run (EXPLAIN): its kind does not count. `later` runs at another time (procedure and
 * task bodies): its flags and names count, but what cannot be analyzed there is left to the
 * `dynamic-code` flag such statements always carry.
 */
export interface Embedded {
  readonly text: string;
  readonly mode: 'now' | 'plan' | 'later';
}

/** Token helpers over one statement. */
export class Tokens {
  constructor(
    readonly list: readonly Token[],
    /** The message text (comments blanked) the tokens' offsets point into. */
    readonly source: string,
  ) {}

  get length(): number {
    return this.list.length;
  }

  at(i: number): Token | undefined {
    return this.list[i];
  }

  /** Upper-cased word at `i`, or '' when the token there is not a word. */
  word(i: number): string {
    const t = this.list[i];
    return t?.type === 'word' ? t.upper : '';
  }

  /** Whether the words at `i`, `i+1`, … are exactly `words`. */
  is(i: number, ...words: string[]): boolean {
    return words.every((w, k) => this.word(i + k) === w);
  }

  op(i: number, text: string): boolean {
    const t = this.list[i];
    return t?.type === 'op' && t.text === text;
  }

  /** Source text from token `from` up to (not including) token `to`. */
  text(from: number, to = this.list.length): string {
    const a = this.list[from];
    const b = this.list[to - 1];
    return a === undefined || b === undefined || to <= from ? '' : this.source.slice(a.start, b.end);
  }

  /** Index of the first token at or after `from` at parenthesis depth 0 satisfying `test`; -1 if none. */
  findTop(from: number, test: (i: number) => boolean): number {
    let depth = 0;
    for (let i = from; i < this.list.length; i++) {
      if (this.op(i, '(')) depth++;
      else if (this.op(i, ')')) depth--;
      else if (depth === 0 && test(i)) return i;
    }
    return -1;
  }

  /** Index just past the `)` matching the `(` at `open`. */
  closing(open: number): number {
    let depth = 0;
    for (let i = open; i < this.list.length; i++) {
      if (this.op(i, '(')) depth++;
      else if (this.op(i, ')') && --depth === 0) return i + 1;
    }
    return this.list.length;
  }
}
