import type { ChainHead } from './chain.js';
import type { CheckpointRow, CheckpointSigner } from './checkpoint.js';

/**
 * When the writer owes a checkpoint: every `every` events, or `intervalMs` after the last one
 * while new events exist. Both stores consult it at the end of each batch, inside the batch's
 * transaction, so a checkpoint never points at an uncommitted event.
 */
export class CheckpointPolicy {
  readonly #every: number;
  readonly #intervalMs: number;
  readonly #signer: CheckpointSigner | undefined;
  #lastSeq = 0;
  #lastTimeMs = 0;

  constructor(every: number, intervalMs: number, signer: CheckpointSigner | undefined) {
    this.#every = every;
    this.#intervalMs = intervalMs;
    this.#signer = signer;
  }

  /** After (re)loading the store: where the last checkpoint (or anchor) is. */
  reset(last: { seq: number; timeMs: number } | null, nowMs: number): void {
    this.#lastSeq = last?.seq ?? 0;
    this.#lastTimeMs = last?.timeMs ?? nowMs;
  }

  /** The checkpoint to commit together with a batch ending at `head`, if one is due. */
  due(head: ChainHead, nowMs: number, force = false): CheckpointRow | null {
    if (head.seq <= this.#lastSeq) return null;
    if (!force && head.seq - this.#lastSeq < this.#every && nowMs - this.#lastTimeMs < this.#intervalMs) return null;
    const s = this.#signer;
    return { seq: head.seq, hash: head.hash, timeMs: nowMs, keyId: s?.keyId ?? null, signature: s ? s.sign(head.seq, head.hash, nowMs) : null };
  }

  committed(c: CheckpointRow): void {
    this.#lastSeq = c.seq;
    this.#lastTimeMs = c.timeMs;
  }
}
