import type { StatementFacts } from '../../analysis/facts.js';
import { Fe } from '../../codecs/pgwire/message-codes.js';
import { clientEncodingAccepted } from './startup-parameters.js';

/**
 * The server must read a statement's text as the analyzer did, or policy and masking decide on
 * SQL that never runs. Two session settings change how PostgreSQL reads text: a multi-byte
 * client_encoding such as SJIS (a character's second byte can be a quote or backslash) and
 * standard_conforming_strings off (a backslash escapes the closing quote). Both are reported
 * in ParameterStatus — but only at ReadyForQuery.
 * https://www.postgresql.org/docs/current/protocol-flow.html#PROTOCOL-ASYNC
 */

/**
 * Why a reported setting makes the server read SQL differently from the analyzer, or undefined.
 * In a session the gateway opened read-only, default_transaction_read_only off counts too:
 * every plain read after it would run read-write (policy.md, "Reads run read-only").
 */
export function misreadingSetting(name: string, value: string, readOnlySession = false): string | undefined {
  if (readOnlySession && name === 'default_transaction_read_only' && value !== 'on') {
    return 'default_transaction_read_only off, which only a function could have done here: this session must stay read-only';
  }
  if (name === 'client_encoding' && !clientEncodingAccepted(value)) {
    return `client_encoding "${value.slice(0, 40)}": in it the server can read a statement's bytes as other statements than Portcullis analyzed; keep client_encoding UTF8`;
  }
  if (name === 'standard_conforming_strings' && value !== 'on') {
    return "standard_conforming_strings off: the server then reads backslashes in string literals differently from Portcullis; keep it on and write E'…' strings for escapes";
  }
  return undefined;
}

/**
 * Whether a Query's or Parse's SQL text (frame `buf[start, end)`) could be read differently
 * once those settings switched: only a backslash (standard_conforming_strings) or a byte of a
 * multi-byte character (every client encoding PostgreSQL accepts is ASCII-compatible) can
 * change where a literal ends. Plain ASCII text reads the same either way.
 */
export function textMayBeMisread(code: number, buf: Buffer, start: number, end: number): boolean {
  let i = start + 5;
  // Parse: the statement name first, then the text; the parameter type OIDs after it are binary.
  if (code === Fe.Parse) {
    while (i < end && buf[i] !== 0) i++;
    i++;
  }
  for (; i < end; i++) {
    const b = buf[i]!;
    if (b === 0) return false;
    if (b === 0x5c || b >= 0x80) return true;
  }
  return false;
}

/** Whether a COMMIT, ROLLBACK or the like comes before the last of these statements. */
export function endsTransactionBeforeLast(statements: readonly StatementFacts[]): boolean {
  for (let i = 0; i < statements.length - 1; i++) if (TRANSACTION_ENDS.has(statements[i]!.tag)) return true;
  return false;
}

/** Whether any of these statements ends a transaction. */
export function endsTransaction(statements: readonly StatementFacts[]): boolean {
  for (const st of statements) if (TRANSACTION_ENDS.has(st.tag)) return true;
  return false;
}

const TRANSACTION_ENDS: ReadonlySet<string> = new Set(['COMMIT', 'ROLLBACK', 'PREPARE TRANSACTION', 'COMMIT PREPARED', 'ROLLBACK PREPARED']);
