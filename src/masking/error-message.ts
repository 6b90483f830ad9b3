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
}

const SCHEMA = 0x73; // s
const TABLE = 0x74; // t
const WHERE = 0x57; // W: context, e.g. a PL/pgSQL line with values
const REDACTED = '****';

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
    const scanned = scanner.scan(out);
    return scanned === undefined ? out : (scanned ?? REDACTED);
  };

  const message = one(fields.message)!;
  const detail = one(fields.detail);
  const hint = one(fields.hint);
  let other = fields.other;
  const where = other?.get(WHERE);
  const maskedWhere = one(where);
  if (where !== undefined && maskedWhere !== where) {
    other = new Map(other);
    other.set(WHERE, maskedWhere!);
  }
  if (message === fields.message && detail === fields.detail && hint === fields.hint && other === fields.other) return null;
  return { ...fields, message, detail, hint, other };
}
