import type { EventRow } from './chain.js';
import type { AuditStore } from './store.js';

/**
 * Streams events out for a SIEM: JSON Lines (each event with its seq and hashes, so the
 * receiver can check the chain itself) or CSV (one row per event, the full event in `event`).
 */
export async function exportEvents(store: AuditStore, opts: { format: 'jsonl' | 'csv'; sinceMs?: number; write: (text: string) => void }): Promise<number> {
  let after = 0;
  let n = 0;
  if (opts.format === 'csv') opts.write('seq,time,type,session,statement,subject,connection,decision,hash,prev_hash,event\n');
  for (;;) {
    const rows = await store.scan(after, 1000);
    if (rows.length === 0) break;
    after = rows[rows.length - 1]!.seq;
    for (const r of rows) {
      if (opts.sinceMs !== undefined && r.timeMs < opts.sinceMs) continue;
      opts.write(opts.format === 'jsonl' ? jsonLine(r) : csvLine(r));
      n++;
    }
  }
  return n;
}

function jsonLine(r: EventRow): string {
  return `{"seq":${r.seq},"hash":"${r.hash}","prev_hash":"${r.prevHash}","event":${r.body}}\n`;
}

function csvLine(r: EventRow): string {
  const f = [String(r.seq), new Date(r.timeMs).toISOString(), r.type, r.session, r.statement === null ? '' : String(r.statement), r.subject ?? '', r.connection ?? '', r.action ?? '', r.hash, r.prevHash, r.body];
  return `${f.map(csvField).join(',')}\n`;
}

/** RFC 4180 quoting; a leading = + - @ is prefixed with ' so spreadsheets do not run it as a formula. */
function csvField(v: string): string {
  const safe = /^[=+\-@\t\r]/.test(v) ? `'${v}` : v;
  return /[",\r\n]/.test(safe) || safe !== v ? `"${safe.replace(/"/g, '""')}"` : safe;
}
