import type { StatementFacts } from '../../analysis/facts.js';
import { PURE_BUILTINS, READING_BUILTINS } from '../../masking/builtin-functions.js';
import { clientEncodingAccepted } from './startup-parameters.js';

/**
 * The server must read a statement's text as the analyzer did, or policy and masking decide on
 * SQL that never runs. Two session settings change how PostgreSQL reads text: a multi-byte
 * client_encoding such as SJIS (a character's second byte can be a quote or backslash) and
 * standard_conforming_strings off (a backslash escapes the closing quote). Both are reported
 * in ParameterStatus — but only at ReadyForQuery.
 * https://www.postgresql.org/docs/current/protocol-flow.html#PROTOCOL-ASYNC
 */

/** Why a reported setting makes the server read SQL differently from the analyzer, or undefined. */
export function misreadingSetting(name: string, value: string): string | undefined {
  if (name === 'client_encoding' && !clientEncodingAccepted(value)) {
    return `client_encoding "${value.slice(0, 40)}": in it the server can read a statement's bytes as other statements than Portcullis analyzed; keep client_encoding UTF8`;
  }
  if (name === 'standard_conforming_strings' && value !== 'on') {
    return "standard_conforming_strings off: the server then reads backslashes in string literals differently from Portcullis; keep it on and write E'…' strings for escapes";
  }
  return undefined;
}

/**
 * Whether running these statements may switch client_encoding or standard_conforming_strings:
 * a SET or set_config of them (session tampering), a DO block or CALL, or a function outside
 * PostgreSQL's built-ins, whose body the analyzer cannot see.
 */
export function maySwitchSqlReading(statements: readonly StatementFacts[]): boolean {
  for (const st of statements) {
    if (st.tag === 'DO' || st.tag === 'CALL' || st.risks.includes('session-tampering')) return true;
    for (const f of st.functions) {
      const name = f.slice(f.lastIndexOf('.') + 1);
      if (!PURE_BUILTINS.has(name) && !READING_BUILTINS.has(name)) return true;
    }
  }
  return false;
}
