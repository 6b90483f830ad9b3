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
  // The header spelled out: JSON.stringify of a ten-element array cost as much as hashing the event.
  // Numbers are integers and hashes hex, so only the strings need escaping.
  for (const r of rows) {
    out += `[${r.seq},${Number.isFinite(r.timeMs) ? r.timeMs : 'null'},${JSON.stringify(r.type)},${JSON.stringify(r.session)},${r.statement ?? 'null'},${nullable(r.subject)},${nullable(r.connection)},${nullable(r.action)},"${r.prevHash}","${r.hash}"]\t${r.body}\n`;
  }
  if (cp) out += `${JSON.stringify(['cp', cp.seq, cp.hash, cp.timeMs, cp.keyId, cp.signature])}\n`;
  return out;
}

function nullable(s: string | null): string {
  return s === null ? 'null' : JSON.stringify(s);
}

export interface Decoded {
  readonly records: JournalRecord[];
  /** Bytes of `buf` consumed by whole, valid records. */
  readonly end: number;
  /** Hash of the last event decoded, to link the next chunk to. */
  readonly lastHash: string | undefined;
}

/**
 * Decodes the whole, valid records at the start of `buf`. It stops at the first line that is
 * incomplete (a write torn by a crash: never acknowledged), unparsable, or whose event does not
 * link to the event before it — past such a line nothing can be chained — and, unless
 * `verifyHashes` is false, at one that does not hash to its `hash`. `prevHash`, when given, is
 * the hash the first event must link to.
 *
 * `verifyHashes: false` is for the writer's own ingest, which reads back bytes this process
 * wrote moments ago: recomputing every SHA-256 there doubled the hashing per statement, and
 * what it would catch (the file edited in between) `audit verify` catches in the tables.
 * Recovery after a crash and read-only readers verify.
 */
export function decodeRecords(buf: Buffer, prevHash?: string, opts: { readonly verifyHashes?: boolean } = {}): Decoded {
  const verify = opts.verifyHashes ?? true;
  // One decode for the whole chunk: a string per line cost as much as the JSON parsing.
  const text = buf.toString('utf8');
  const records: JournalRecord[] = [];
  let pos = 0;
  let last = prevHash;
  while (pos < text.length) {
    const nl = text.indexOf('\n', pos);
    if (nl < 0) break;
    const rec = parseLine(text, pos, nl, verify);
    if (!rec) break;
    if (rec.kind === 'event') {
      if (last !== undefined && rec.row.prevHash !== last) break;
      last = rec.row.hash;
    }
    records.push(rec);
    pos = nl + 1;
  }
  const end = pos === text.length ? buf.length : Buffer.byteLength(text.slice(0, pos), 'utf8');
  return { records, end, lastHash: last };
}

function parseLine(text: string, start: number, nl: number, verify: boolean): JournalRecord | undefined {
  try {
    const tab = text.indexOf('\t', start);
    if (tab < 0 || tab > nl) {
      const c = JSON.parse(text.slice(start, nl)) as unknown[];
      if (c[0] !== 'cp' || typeof c[1] !== 'number' || typeof c[2] !== 'string' || typeof c[3] !== 'number') return undefined;
      return { kind: 'checkpoint', cp: { seq: c[1], hash: c[2], timeMs: c[3], keyId: (c[4] as string | null) ?? null, signature: (c[5] as string | null) ?? null } };
    }
    const h = JSON.parse(text.slice(start, tab)) as unknown[];
    const body = text.slice(tab + 1, nl);
    if (h.length !== 10 || typeof h[0] !== 'number' || typeof h[8] !== 'string' || typeof h[9] !== 'string') return undefined;
    // A record that does not hash right is damage, not data: never insert it.
    if (verify && eventHash(h[8], body) !== h[9]) return undefined;
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
