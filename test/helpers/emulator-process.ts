/**
 * The Snowflake emulator in a process of its own, so a test's memory measurements see only
 * the gateway (the emulator keeps whole results in memory by design). Run through `fork`:
 * it answers `{ type: 'history' }` with its query history over IPC.
 */
import { fork, type ChildProcess } from 'node:child_process';
import type { EmulatorQuery, SnowflakeEmulatorOptions } from '../../src/dev/snowflake-emulator/index.js';

export interface EmulatorProcess {
  readonly url: string;
  history(): Promise<EmulatorQuery[]>;
  close(): Promise<void>;
}

export async function forkEmulator(opts: SnowflakeEmulatorOptions): Promise<EmulatorProcess> {
  const child: ChildProcess = fork(new URL(import.meta.url), ['--child'], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const url = await new Promise<string>((resolve, reject) => {
    child.once('message', (m: { url?: string; error?: string }) => (m.url ? resolve(m.url) : reject(new Error(m.error))));
    child.once('exit', (code) => reject(new Error(`emulator process exited with ${code}`)));
    child.send({ type: 'start', opts });
  });
  let seq = 0;
  return {
    url,
    history: () =>
      new Promise((resolve) => {
        const id = ++seq;
        const on = (m: { id?: number; history?: EmulatorQuery[] }) => {
          if (m.id !== id) return;
          child.off('message', on);
          resolve(m.history ?? []);
        };
        child.on('message', on);
        child.send({ type: 'history', id });
      }),
    close: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.send({ type: 'close' });
      }),
  };
}

if (process.argv.includes('--child')) {
  process.env.SNOWFLAKE_DISABLE_PLATFORM_DETECTION = 'true';
  const { startSnowflakeEmulator } = await import('../../src/dev/snowflake-emulator/index.js');
  let emu: Awaited<ReturnType<typeof startSnowflakeEmulator>> | undefined;
  process.on('message', async (m: { type: string; id?: number; opts?: SnowflakeEmulatorOptions }) => {
    try {
      if (m.type === 'start') {
        emu = await startSnowflakeEmulator(m.opts ?? {});
        process.send!({ url: emu.url });
      } else if (m.type === 'history') {
        process.send!({ id: m.id, history: emu?.history() ?? [] });
      } else if (m.type === 'close') {
        await emu?.close();
        process.exit(0);
      }
    } catch (e) {
      process.send!({ error: (e as Error).message });
    }
  });
  // The parent went away: do not linger.
  process.on('disconnect', () => process.exit(0));
}
