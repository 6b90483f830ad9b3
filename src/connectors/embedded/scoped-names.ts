import { Fe } from '../../codecs/pgwire/message-codes.js';

/**
 * Gives each client session its own namespace for named prepared statements and portals.
 *
 * All sessions share PGlite's one backend, so two clients that both `Parse` a statement named
 * `s1` (postgres.js, JDBC and npgsql name their statements per connection) would collide with
 * "prepared statement already exists", or worse, one would execute the other's statement.
 * Prefixing non-empty names with a per-session tag keeps them apart; the unnamed statement and
 * portal stay unnamed because the gate already keeps a session's batch from being interleaved.
 * Replies never echo these names, so clients see nothing of the rewrite (except inside the
 * text of an error such as "prepared statement "pc7_s1" does not exist").
 *
 * Message layouts: https://www.postgresql.org/docs/current/protocol-message-formats.html
 */
export class ScopedNames {
  readonly #prefix: Buffer;
  /** Statement names (client spelling) this session has created, for clean-up on disconnect. */
  readonly statements = new Set<string>();

  constructor(tag: string) {
    this.#prefix = Buffer.from(tag, 'utf8');
  }

  /** Returns `msg` (one complete typed message) with its statement/portal names scoped. */
  rewrite(msg: Buffer): Buffer {
    switch (msg[0]) {
      case Fe.Parse: {
        const name = cstringEnd(msg, 5);
        if (name > 5) this.statements.add(msg.toString('utf8', 5, name));
        return this.#scope(msg, [5]);
      }
      case Fe.Bind: {
        // portal name, then statement name
        const portalEnd = cstringEnd(msg, 5);
        return this.#scope(msg, [5, portalEnd + 1]);
      }
      case Fe.Describe:
      case Fe.Close: {
        // 'S' (statement) or 'P' (portal), then the name
        if (msg[0] === Fe.Close && msg[5] === 0x53) {
          const end = cstringEnd(msg, 6);
          this.statements.delete(msg.toString('utf8', 6, end));
        }
        return this.#scope(msg, [6]);
      }
      case Fe.Execute:
        return this.#scope(msg, [5]);
      default:
        return msg;
    }
  }

  /** The scoped spelling of a statement name, for the Close messages sent at clean-up. */
  scoped(name: string): string {
    return this.#prefix.toString('utf8') + name;
  }

  /** Inserts the prefix before each non-empty C string starting at the given offsets (ascending). */
  #scope(msg: Buffer, starts: readonly number[]): Buffer {
    const parts: Buffer[] = [];
    let from = 0;
    let added = 0;
    for (const at of starts) {
      if (at >= msg.length) throw new RangeError('message ends inside a name');
      if (msg[at] === 0) continue; // the unnamed statement or portal
      parts.push(msg.subarray(from, at), this.#prefix);
      from = at;
      added += this.#prefix.length;
    }
    if (added === 0) return msg;
    parts.push(msg.subarray(from));
    const out = Buffer.concat(parts, msg.length + added);
    out.writeInt32BE(out.length - 1, 1);
    return out;
  }
}

/** Offset of the NUL ending the C string that starts at `start`. */
function cstringEnd(msg: Buffer, start: number): number {
  const end = msg.indexOf(0, start);
  if (end < 0) throw new RangeError('unterminated string in message');
  return end;
}
