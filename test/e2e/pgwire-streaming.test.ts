/**
 * A 2,000,000-row result streams through the gateway (its own process) to a slow reader while
 * the gateway's memory stays bounded: back-pressure holds the upstream, nothing buffers whole.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { connect } from 'node:net';
import { startPostgres, type PgCluster } from '../helpers/pg-cluster.js';
import { spawnGateway } from '../helpers/gateway.js';
import { MessageWriter } from '../../src/codecs/pgwire/writer.js';
import { MessageScanner, KEEP } from '../../src/codecs/pgwire/message-scanner.js';

let db: PgCluster;
let gw: Awaited<ReturnType<typeof spawnGateway>>;

before(async () => {
  db = await startPostgres();
  gw = await spawnGateway(db);
});
after(async () => {
  await gw?.stop();
  await db?.stop();
});

function rssKb(pid: number, field: 'VmRSS' | 'VmHWM'): number {
  const m = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return Number(m![1]);
}

test('2,000,000 rows (~220 MB) reach a slow reader; the gateway grows by under 128 MB, a plateau not the result (RSS under 256 MB)', { timeout: 180000 }, async (t) => {
  const pid = gw.child.pid!;
  // The gateway at rest (its ingest thread and SQLite included) before the result flows.
  const idle = rssKb(pid, 'VmRSS');
  const sock = connect(gw.port, '127.0.0.1');
  sock.setNoDelay(true);
  await new Promise((r) => sock.once('connect', r));
  const w = new MessageWriter();
  w.begin(0).int32(196608).cstring('user').cstring('slow').cstring('database').cstring('main').int8(0).end();
  sock.write(w.take());

  let tag = '';
  let bytes = 0;
  let phase: 'auth' | 'query' = 'auth';
  let done!: () => void;
  const finished = new Promise<void>((r) => (done = r));
  const scanner = new MessageScanner({
    pass: (_b, s, e) => (bytes += e - s),
    message: (code, buf, s, e) => {
      if (code === 0x52 && buf.readInt32BE(s + 5) === 3) sock.write(new MessageWriter().begin(0x70).cstring(gw.key).end().take());
      else if (code === 0x45) throw new Error('error from gateway: ' + buf.toString('utf8', s + 5, e));
      else if (code === 0x43) tag = buf.toString('utf8', s + 5, e - 1);
      else if (code === 0x5a) {
        if (phase === 'auth') {
          phase = 'query';
          sock.write(new MessageWriter().begin(0x51).cstring("SELECT g, repeat('x', 100) AS pad FROM generate_series(1, 2000000) g").end().take());
        } else done();
      }
      return KEEP;
    },
    violation: (r) => {
      throw new Error(r);
    },
  });
  for (const c of [0x52, 0x45, 0x43, 0x5a]) scanner.inspect[c] = 1;

  // Slow reader: 32 KiB every 2 ms at most (~16 MB/s), far slower than the server produces.
  sock.pause();
  let peak = 0;
  const reader = setInterval(() => {
    const chunk = sock.read(32 * 1024) ?? sock.read();
    if (chunk) scanner.push(chunk as Buffer);
    peak = Math.max(peak, rssKb(pid, 'VmRSS'));
  }, 2);
  await finished;
  clearInterval(reader);
  sock.destroy();

  assert.equal(tag, 'SELECT 2000000');
  assert.ok(bytes > 200_000_000, `received ${bytes} bytes`);
  const hwm = rssKb(pid, 'VmHWM');
  t.diagnostic(`gateway RSS ${Math.round(idle / 1024)} MB at rest, peak ${Math.round(hwm / 1024)} MB`);
  assert.ok(hwm < 256 * 1024, `gateway peak RSS ${Math.round(hwm / 1024)} MB`);
  assert.ok(peak - idle < 128 * 1024, `gateway grew by ${Math.round((peak - idle) / 1024)} MB while streaming`);
});
