// The SQLite store's ingest thread: its own connection, so the commits (WAL page writes,
// auto-checkpoints) that used to cost the main thread ~50–150 µs per statement happen here.
import { parentPort, workerData } from 'node:worker_threads';
import { JournalIngest } from './sqlite-ingest.js';

export type IngestRequest = { readonly type: 'ingest'; readonly gen: number; readonly upTo: number } | { readonly type: 'close' };
export type IngestReply = { readonly type: 'ingested'; readonly gen: number; readonly upTo: number } | { readonly type: 'failed'; readonly message: string };

const port = parentPort!;
const { dbPath, journal } = workerData as { dbPath: string; journal: string };
let ingest: JournalIngest | undefined;

function reply(m: IngestReply): void {
  port.postMessage(m);
}

port.on('message', (m: IngestRequest) => {
  if (m.type === 'close') {
    ingest?.close();
    port.close();
    return;
  }
  try {
    // Opened on first use, and tried again with the next request if that failed.
    ingest ??= new JournalIngest(dbPath, journal);
    ingest.ingest(m.gen, m.upTo);
    reply({ type: 'ingested', gen: m.gen, upTo: m.upTo });
  } catch (e) {
    reply({ type: 'failed', message: e instanceof Error ? `${e.message}${(e as { code?: string }).code ? ` (${(e as { code?: string }).code})` : ''}` : String(e) });
  }
});
