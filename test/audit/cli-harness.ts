import type { Command } from 'commander';
import type { AuditCliIo } from '../../src/cli/sessions.js';

/** Runs a command tree in-process with captured output; `sleeps` records replay delays. */
export async function runCli(make: (io: AuditCliIo) => Command, args: string[]): Promise<{ out: string; err: string; code: number; sleeps: number[] }> {
  let out = '';
  let err = '';
  let code = 0;
  const sleeps: number[] = [];
  const io: AuditCliIo = {
    out: (t) => void (out += t),
    err: (t) => void (err += t),
    exit: (c) => void (code = c),
    sleep: async (ms) => void sleeps.push(ms),
  };
  const cmd = make(io);
  const quiet = (c: Command) => c.exitOverride().configureOutput({ writeOut: (t) => void (out += t), writeErr: (t) => void (err += t) });
  quiet(cmd);
  for (const sub of cmd.commands) quiet(sub);
  try {
    await cmd.parseAsync(args, { from: 'user' });
  } catch (e) {
    code = (e as { exitCode?: number }).exitCode ?? 3;
    err += String((e as Error).message);
  }
  return { out, err, code, sleeps };
}
