import { eventHash, type EventRow } from './chain.js';
import type { CheckpointRow } from './checkpoint.js';

/**
 * The append-only journal in front of the SQLite store (`<db>-journal.pcj`): what makes a
 * statement durable before it goes upstream, at the cost of one `write(2)` per event-loop turn
 * instead of one SQLite commit.
 *
 * One line per record, so a reader needs no framing state and a torn write is simply a last line
 * without its `\n`:
 *
 *   event:       JSON [seq, timeMs, type, session, statement, subject, connection, action, prevHash, hash] TAB body LF
 *   checkpoint:  JSON ["cp", seq, hash, timeMs, keyId, signature] LF
 *
 * Neither part can hold a raw TAB or LF: both are JSON, which escapes control characters. The
 * body is stored as is — it is the exact string the hash covers — so ingest inserts the row
 * verbatim.
 */
export type JournalRecord = { readonly kind: 'event'; readonly row: EventRow } | { readonly kind: 'checkpoint'; readonly cp: CheckpointRow };

export function encodeRecords(rows: readonly EventRow[], cp: CheckpointRow | null): string {
  let out = '';
  for (const r of rows) {
    out += `${JSON.stringify([r.seq, r.timeMs, r.type, r.session, r.statement, r.subject, r.connection, r.action, r.prevHash, r.hash])}\t${r.body}\n`;
  }
  if (cp) out += `${JSON.stringify(['cp', cp.seq, cp.hash, cp.timeMs, cp.keyId, cp.signature])}\n`;
  return out;
}

export interface Decoded {
  readonly records: JournalRecord[];
  /** Bytes of `buf` consumed by whole, valid records. */
  readonly end: number;
  /** Hash of the last event decoded, to link the next chunk to. */
  readonly lastHash: string | undefined;
}

const LF = 0x0a;

/**
 * Decodes the whole, valid records at the start of `buf`. It stops at the first line that is
 * incomplete (a write torn by a crash: never acknowledged), unparsable, or whose event does not
 * hash to its `hash` or link to the event before it — past such a line nothing can be chained.
 * `prevHash`, when given, is the hash the first event must link to.
 */
export function decodeRecords(buf: Buffer, prevHash?: string): Decoded {
  const records: JournalRecord[] = [];
  let pos = 0;
  let last = prevHash;
  while (pos < buf.length) {
    const nl = buf.indexOf(LF, pos);
    if (nl < 0) break;
    const rec = parseLine(buf.toString('utf8', pos, nl));
    if (!rec) break;
    if (rec.kind === 'event') {
      if (last !== undefined && rec.row.prevHash !== last) break;
      last = rec.row.hash;
    }
    records.push(rec);
    pos = nl + 1;
  }
  return { records, end: pos, lastHash: last };
}

function parseLine(line: string): JournalRecord | undefined {
  try {
    const tab = line.indexOf('\t');
    if (tab < 0) {
      const c = JSON.parse(line) as unknown[];
      if (c[0] !== 'cp' || typeof c[1] !== 'number' || typeof c[2] !== 'string' || typeof c[3] !== 'number') return undefined;
      return { kind: 'checkpoint', cp: { seq: c[1], hash: c[2], timeMs: c[3], keyId: (c[4] as string | null) ?? null, signature: (c[5] as string | null) ?? null } };
    }
    const h = JSON.parse(line.slice(0, tab)) as unknown[];
    const body = line.slice(tab + 1);
    if (h.length !== 10 || typeof h[0] !== 'number' || typeof h[8] !== 'string' || typeof h[9] !== 'string') return undefined;
    // A record that does not hash right is damage, not data: never insert it.
    if (eventHash(h[8], body) !== h[9]) return undefined;
    return {
      kind: 'event',
      row: {
        seq: h[0],
        timeMs: h[1] as number,
        type: h[2] as string,
        session: h[3] as string,
        statement: h[4] as number | null,
        subject: h[5] as string | null,
        connection: h[6] as string | null,
        action: h[7] as string | null,
        prevHash: h[8],
        hash: h[9],
        body,
      },
    };
  } catch {
    return undefined;
  }
}

/** Where the journal of a SQLite store lives. Not `<db>-journal`: that is SQLite's own rollback journal. */
export function journalPath(dbPath: string): string {
  return `${dbPath}-journal.pcj`;
}

/** The lock file that keeps a second writer off the database. */
export function lockPath(dbPath: string): string {
  return `${dbPath}-writer.lock`;
}
