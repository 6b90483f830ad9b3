import type { KeyObject } from 'node:crypto';
import { GENESIS_HASH, eventHash, indexColumns, type EventRow } from './chain.js';
import { checkSignature, keyIdOf, type CheckpointRow } from './checkpoint.js';
import type { AuditEvent } from './events.js';
import type { AuditStore } from './store.js';

export interface VerifyProblem {
  /** The event (or checkpoint/anchor) seq the problem is found at. */
  readonly seq: number;
  readonly kind: 'edited' | 'deleted' | 'reordered' | 'inserted' | 'broken-link' | 'index-mismatch' | 'checkpoint-mismatch' | 'bad-signature' | 'unsigned-tail' | 'anchor';
  readonly message: string;
}

export interface VerifyReport {
  readonly ok: boolean;
  /** First and last seq checked; firstSeq is anchor.seq + 1 after retention. */
  readonly firstSeq: number;
  readonly lastSeq: number;
  readonly events: number;
  readonly checkpoints: number;
  readonly signedCheckpoints: number;
  /** Did verification check signatures (a public key was given)? */
  readonly signaturesChecked: boolean;
  readonly anchor: CheckpointRow | null;
  readonly problems: readonly VerifyProblem[];
}

export interface VerifyOptions {
  /** Check checkpoint signatures and require recent signed coverage. */
  readonly publicKey?: KeyObject | undefined;
  /** With a public key: how many events may follow the last signed checkpoint (checkpoint_every). */
  readonly checkpointEvery?: number | undefined;
  /** Stop after this many problems (a rewritten store would otherwise report every row). */
  readonly maxProblems?: number | undefined;
  readonly batchSize?: number | undefined;
}

/**
 * Walks the chain from the retention anchor (or genesis) and names every event that does not
 * fit: a body edited after its hash was taken, a missing seq, an event stored under another
 * seq, a prev_hash that does not chain to the event before it, an index column that disagrees
 * with the body. Then checks every checkpoint against the event it covers and, with a public
 * key, its Ed25519 signature — the part that an attacker who recomputes the whole chain
 * cannot fake.
 */
export async function verifyStore(store: AuditStore, opts: VerifyOptions = {}): Promise<VerifyReport> {
  const max = opts.maxProblems ?? 100;
  const batch = opts.batchSize ?? 2000;
  const problems: VerifyProblem[] = [];
  const report = (p: VerifyProblem) => {
    if (problems.length < max) problems.push(p);
  };
  const key = opts.publicKey;
  const keyId = key ? keyIdOf(key) : null;

  const anchor = await store.anchor();
  if (anchor && key && !(anchor.keyId === keyId && checkSignature(key, anchor))) {
    report({ seq: anchor.seq, kind: 'anchor', message: `retention anchor at seq ${anchor.seq} is not signed by this key: events before it may have been deleted without retention` });
  }
  const startSeq = anchor ? anchor.seq + 1 : 1;
  let expected = startSeq;
  let prev = anchor ? anchor.hash : GENESIS_HASH;
  const hashes = new Map<number, string>();
  const cps = await store.checkpoints();
  const cpSeqs = new Set(cps.map((c) => c.seq));
  let count = 0;
  let last = startSeq - 1;
  let after = startSeq - 1;
  if (anchor === null) after = 0;

  for (;;) {
    const rows = await store.scan(after, batch);
    if (rows.length === 0) break;
    for (const row of rows) {
      count++;
      if (row.seq > expected) {
        report({
          seq: expected,
          kind: 'deleted',
          message: row.seq === expected + 1 ? `event ${expected} is missing (deleted)` : `events ${expected}–${row.seq - 1} are missing (deleted)`,
        });
      } else if (row.seq < expected) {
        report({ seq: row.seq, kind: 'inserted', message: `event ${row.seq} precedes the retention anchor (seq ${startSeq - 1}): it was inserted` });
      }
      checkRow(row, prev, report);
      // Chain on the stored hash: an edited body is named once, at that event; a body whose hash
      // was recomputed to match shows up as a broken link at the next event instead.
      prev = row.hash;
      if (cpSeqs.has(row.seq)) hashes.set(row.seq, prev);
      expected = row.seq + 1;
      last = row.seq;
    }
    after = rows[rows.length - 1]!.seq;
  }

  let signed = 0;
  let lastSigned = anchor && key && anchor.keyId === keyId && checkSignature(key, anchor) ? anchor.seq : 0;
  for (const c of cps) {
    if (c.seq <= startSeq - 1) {
      report({ seq: c.seq, kind: 'checkpoint-mismatch', message: `checkpoint at seq ${c.seq} covers events before the retention anchor (seq ${startSeq - 1})` });
      continue;
    }
    const h = hashes.get(c.seq);
    if (h === undefined) {
      report({ seq: c.seq, kind: 'deleted', message: `checkpoint at seq ${c.seq} covers an event that is no longer in the store: events up to ${c.seq} were deleted` });
      continue;
    }
    if (h !== c.hash) {
      report({ seq: c.seq, kind: 'checkpoint-mismatch', message: `the chain up to event ${c.seq} differs from its checkpoint: an event at or before ${c.seq} was rewritten` });
      continue;
    }
    if (!key) continue;
    if (c.signature === null) continue;
    if (c.keyId !== keyId || !checkSignature(key, c)) {
      report({ seq: c.seq, kind: 'bad-signature', message: `checkpoint at seq ${c.seq} does not carry a valid signature by key ${keyId}: it was forged` });
      continue;
    }
    signed++;
    lastSigned = c.seq;
  }
  if (key && opts.checkpointEvery !== undefined && last - lastSigned > opts.checkpointEvery) {
    report({
      seq: lastSigned + 1,
      kind: 'unsigned-tail',
      message: `${last - lastSigned} events after ${lastSigned === 0 ? 'the start' : `seq ${lastSigned}`} have no signed checkpoint (at most ${opts.checkpointEvery} expected): checkpoints were removed or the chain was rewritten`,
    });
  }

  return {
    ok: problems.length === 0,
    firstSeq: startSeq,
    lastSeq: last,
    events: count,
    checkpoints: cps.length,
    signedCheckpoints: signed,
    signaturesChecked: key !== undefined,
    anchor,
    problems,
  };
}

function checkRow(row: EventRow, prev: string, report: (p: VerifyProblem) => void): void {
  let event: (AuditEvent & { seq?: unknown }) | undefined;
  try {
    event = JSON.parse(row.body) as AuditEvent & { seq?: unknown };
  } catch {
    report({ seq: row.seq, kind: 'edited', message: `event ${row.seq}: the body is not valid JSON` });
  }
  if (event && event.seq !== row.seq) {
    report({ seq: row.seq, kind: 'reordered', message: `event ${row.seq}: stored at seq ${row.seq} but the event says seq ${String(event.seq)} (moved or swapped)` });
  }
  if (eventHash(row.prevHash, row.body) !== row.hash) {
    report({ seq: row.seq, kind: 'edited', message: `event ${row.seq}: content does not match its hash (edited)` });
  }
  if (row.prevHash !== prev) {
    report({
      seq: row.seq,
      kind: 'broken-link',
      message: `event ${row.seq}: prev_hash does not match the event before it (an event was inserted here, or the one before was replaced)`,
    });
  }
  if (event) {
    try {
      const ix = indexColumns(event);
      for (const k of ['timeMs', 'type', 'session', 'statement', 'subject', 'connection', 'action'] as const) {
        if (ix[k] !== row[k]) report({ seq: row.seq, kind: 'index-mismatch', message: `event ${row.seq}: column ${k} disagrees with the recorded event (edited to hide it from queries)` });
      }
    } catch {
      report({ seq: row.seq, kind: 'edited', message: `event ${row.seq}: not a recognisable audit event` });
    }
  }
}
