import { MessageWriter } from '../../src/codecs/pgwire/writer.js';

/**
 * Frontend messages written into one buffer, for raw-protocol attacks that need an
 * extended-protocol batch (or several Queries) to arrive in a single write. `writer` is there
 * for the rare message no helper covers.
 *
 * @example
 *   const b = frontendBatch();
 *   b.parse('', 'SELECT 1'); b.bind('', ''); b.execute(''); b.sync();
 *   client.write(b.take());
 */
export function frontendBatch() {
  const w = new MessageWriter();
  return {
    writer: w,
    parse: (name: string, sql: string): MessageWriter => w.begin(0x50).cstring(name).cstring(sql).int16(0).end(),
    bind: (portal: string, stmt: string): MessageWriter => w.begin(0x42).cstring(portal).cstring(stmt).int16(0).int16(0).int16(0).end(),
    execute: (portal: string, rows = 0): MessageWriter => w.begin(0x45).cstring(portal).int32(rows).end(),
    sync: (): MessageWriter => w.begin(0x53).end(),
    query: (sql: string): MessageWriter => w.begin(0x51).cstring(sql).end(),
    take: (): Buffer => w.take(),
  };
}
