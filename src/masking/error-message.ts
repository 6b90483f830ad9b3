import type { ErrorFields } from '../codecs/pgwire/error-fields.js';
import type { TextScanner } from './text-scanner.js';

/**
 * PostgreSQL quotes data values into some error and notice texts: a unique violation's
 * `Key (email)=(alice@example.com) already exists`, a check or not-null violation's
 * `Failing row contains (…)`, a failed cast's `invalid input syntax for type integer: "…"`.
 * An agent can provoke these on purpose (`SELECT ssn::int FROM customers`) to read a value the
 * result stream would have masked. So: detectors run over message, detail, hint and where;
 * a key or row whose table has sensitive columns is redacted; and when the statement read
 * sensitive columns, quoted values in the messages that carry data are redacted too.
 * https://www.postgresql.org/docs/current/protocol-error-fields.html
 */
export interface ErrorMaskContext {
  /** Whether the failing statement read columns that are masked for this principal. */
  readonly sensitive?: boolean | undefined;
  /** Whether `schema.table.column` is masked for this principal. */
  readonly columnMasked?: ((column: string) => boolean) | undefined;
  /** Whether relation `schema.table` has any column masked for this principal. */
  readonly relationMasked?: ((relation: string) => boolean) | undefined;
  /**
   * The statement the client sent. A quoted name or number that appears in it verbatim tells
   * the client nothing it did not write (`relation "no_such_table" does not exist`), so it
   * stays; anything else a sensitive statement's runtime error quotes is redacted.
   */
  readonly statementText?: string | undefined;
}

const SCHEMA = 0x73; // s
const TABLE = 0x74; // t
const COLUMN = 0x63; // c
const CONSTRAINT = 0x6e; // n
const DATATYPE = 0x64; // d
const WHERE = 0x57; // W: context, e.g. a PL/pgSQL line with values
const REDACTED = '****';

const POSITION = 0x50; // P: a cursor position into the client's own statement text
const INTERNAL_QUERY = 0x71; // q: the text of an internally generated statement (PL/pgSQL EXECUTE)
const ROUTINE = 0x52; // R: the server routine that raised it
/** Any double-quoted text; PostgreSQL doubles a quote inside. */
const ANY_QUOTED = /"((?:[^"]|"")*)"/g;
/** Runs of digits long enough to be (part of) an identifier number. */
const DIGIT_RUN = /\d{4,}/g;
/** The JSON parser's context line quotes the input it failed on. */
const JSON_CONTEXT = /(JSON data, line \d+: ).*/s;

const KEY = /\(([^()]*(?:\([^()]*\)[^()]*)*)\)=\((.*)\)/s;
const FAILING_ROW = /(Failing row contains )\((.*)\)/s;
/** Messages that quote a value: invalid input syntax, out of range, invalid enum value, too long. */
const QUOTED_VALUE = /((?:invalid input (?:syntax|value) for (?:type )?[^:]*|value too long for type [^:]*|out of range for type [^:]*|date\/time field value out of range|invalid value|is not a valid [^:]*)): "((?:[^"]|"")*)"/g;
const VALUE_QUOTED = /(value )"((?:[^"]|"")*)"( is out of range)/g;

export function maskErrorFields(fields: ErrorFields, scanner: TextScanner, ctx: ErrorMaskContext = {}): ErrorFields | null {
  const schema = fields.other?.get(SCHEMA);
  const table = fields.other?.get(TABLE);
  const relation = schema !== undefined && table !== undefined ? `${schema}.${table}` : undefined;
  const relSensitive = ctx.sensitive === true || (relation !== undefined && ctx.relationMasked?.(relation) === true);
  // An error at a position in the client's own statement text (a parse or analysis error) quotes
  // that text. Any other error of a sensitive statement may quote a value the statement computed:
  // `relation "x123…" does not exist` from a regclass cast, `unrecognized configuration
  // parameter "…"` from set_config, the JSON parser's `Token "…" is invalid`, PL/pgSQL's RAISE.
  const runtime = relSensitive && fields.other?.get(POSITION) === undefined;
  const raised = relSensitive && fields.other?.get(ROUTINE) === 'exec_stmt_raise';

  const one = (s: string | undefined): string | undefined => {
    if (s === undefined || s.length === 0) return s;
    let out = s;
    out = out.replace(KEY, (all, cols: string, vals: string) => {
      const names = cols.split(',').map((c) => c.trim().replace(/^"|"$/g, ''));
      const masked = relation !== undefined && ctx.columnMasked !== undefined ? names.some((n) => ctx.columnMasked!(`${relation}.${n}`)) : relSensitive;
      return masked || relSensitive ? `(${cols})=(${REDACTED})` : all;
    });
    if (relSensitive) {
      out = out.replace(FAILING_ROW, `$1(${REDACTED})`);
      out = out.replace(QUOTED_VALUE, `$1: "${REDACTED}"`);
      out = out.replace(VALUE_QUOTED, `$1"${REDACTED}"$3`);
    }
    if (runtime) {
      const sql = ctx.statementText;
      const written = (v: string): boolean => sql !== undefined && v.length > 0 && sql.includes(v);
      out = out
        .replace(ANY_QUOTED, (m: string, inner: string) => (written(inner.replaceAll('""', '"')) ? m : `"${REDACTED}"`))
        .replace(DIGIT_RUN, (d: string) => (written(d) ? d : REDACTED))
        .replace(JSON_CONTEXT, `$1${REDACTED}`);
    }
    const scanned = scanner.scan(out);
    return scanned === undefined ? out : (scanned ?? REDACTED);
  };

  // RAISE's text is whatever the function put there: under a sensitive statement, none of it is shown.
  const whole = (s: string | undefined): string | undefined => (raised && s !== undefined && s.length > 0 ? REDACTED : one(s));
  const message = whole(fields.message)!;
  const detail = whole(fields.detail);
  const hint = whole(fields.hint);
  let other = fields.other;
  // RAISE … USING COLUMN/CONSTRAINT/DATATYPE/TABLE/SCHEMA fills these with any text, data included.
  for (const code of [WHERE, INTERNAL_QUERY, COLUMN, CONSTRAINT, DATATYPE, TABLE, SCHEMA]) {
    const v = other?.get(code);
    const masked = code === INTERNAL_QUERY && runtime && v !== undefined ? REDACTED : code === WHERE || code === INTERNAL_QUERY ? one(v) : whole(v);
    if (v !== undefined && masked !== v) {
      if (other === fields.other) other = new Map(other);
      other!.set(code, masked!);
    }
  }
  if (message === fields.message && detail === fields.detail && hint === fields.hint && other === fields.other) return null;
  return { ...fields, message, detail, hint, other };
}
