import { gzipSync } from 'node:zlib';
import type { SnowflakeColumnType } from '../../codecs/snowflake/rowtype.js';

/** A downloadable part of a result: gzip-compressed JSON rows without the outer brackets. */
export interface StoredChunk {
  readonly gzipped: Buffer;
  readonly rowCount: number;
  readonly uncompressedSize: number;
}

/** A finished result, kept so the driver can fetch it (again) and download its chunks. */
export interface StoredResult {
  readonly rowtype: readonly SnowflakeColumnType[];
  readonly rowset: readonly (readonly (string | null)[])[];
  readonly chunks: readonly StoredChunk[];
  readonly total: number;
  readonly statementTypeId: number;
}

/**
 * Collects encoded rows as DuckDB produces them: the first `inlineRows` go inline in the
 * response's `rowset`, later rows are cut into chunks of `chunkRows` and compressed at once, so
 * a large result is held as compact gzip rather than as JavaScript arrays. The chunk format is
 * what snowflake-sdk's chunk.js parses: `JSON.parse('[' + body + ']')`.
 */
export class ResultBuilder {
  readonly #inline: (string | null)[][] = [];
  readonly #chunks: StoredChunk[] = [];
  #pending: string[] = [];
  #total = 0;

  constructor(
    private readonly rowtype: readonly SnowflakeColumnType[],
    private readonly statementTypeId: number,
    private readonly inlineRows: number,
    private readonly chunkRows: number,
  ) {}

  add(row: (string | null)[]): void {
    this.#total++;
    if (this.#inline.length < this.inlineRows && this.#chunks.length === 0 && this.#pending.length === 0) {
      this.#inline.push(row);
      return;
    }
    const json = JSON.stringify(row);
    this.#pending.push(json);
    if (this.#pending.length >= this.chunkRows) this.#cut();
  }

  finish(): StoredResult {
    if (this.#pending.length) this.#cut();
    return { rowtype: this.rowtype, rowset: this.#inline, chunks: this.#chunks, total: this.#total, statementTypeId: this.statementTypeId };
  }

  #cut(): void {
    const body = Buffer.from(this.#pending.join(','), 'utf8');
    this.#chunks.push({ gzipped: gzipSync(body, { level: 1 }), rowCount: this.#pending.length, uncompressedSize: body.length });
    this.#pending = [];
  }
}
