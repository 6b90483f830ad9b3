import type { Server } from 'node:net';

/** Starts listening and resolves with the bound address (port 0 picks a free one). */
export async function listenOn(server: Server, port: number, host: string): Promise<{ host: string; port: number }> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const a = server.address();
  if (a === null || typeof a === 'string') throw new TypeError('unexpected listener address');
  return { host: a.address, port: a.port };
}
