import { parseSync } from 'libpg-query';
import type { Connector } from '../../connectors/connector.js';
import { CatalogSnapshot } from '../../connectors/catalog-snapshot.js';
import type { ErrorFields } from '../../codecs/pgwire/error-fields.js';
import { BodyReader } from '../../codecs/pgwire/body-reader.js';
import { copyBody, sameBody } from '../../codecs/pgwire/message-body.js';
import { copyFormatOf, sqlLineage, TEXT_COPY, unionLineage, type CopyFormat, type MaskingEngine, type MaskPlan, type ResultColumn, type StatementLineage } from '../../masking/index.js';
import type { ErrorMaskContext } from '../../masking/index.js';

/**
 * Masking on the PostgreSQL wire path: turns a RowDescription into a mask plan, using the
 * upstream catalog to resolve each column's table OID and attribute number, and the
 * statement's lineage (from its parse tree) for computed columns, so aliases and expressions
 * cannot walk a sensitive value past the rules.
 *
 * Everything that cannot be resolved — a catalog still loading, a statement that does not
 * parse, a cursor defined elsewhere — is unknown lineage, which the engine masks
 * conservatively (`lineage_unknown: mask`, the default).
 */
export interface MaskedStatement {
  readonly sql: string;
  readonly profiles: readonly string[] | undefined;
  /**
   * The statement changes data. PostgreSQL names the target column's table OID for a RETURNING
   * column (also through a CTE), but the value is what was just written: its origin is the
   * assignment, so such results always go through lineage.
   */
  readonly writes?: boolean | undefined;
  /**
   * What each FETCH/EXECUTE of the text (by statement index) stood for when it was admitted,
   * from `bindNames`. A FETCH or EXECUTE that is not here has unknown lineage.
   */
  readonly bound?: ReadonlyMap<number, StatementLineage | undefined> | undefined;
}

/**
 * Command tags after which a cursor or prepared name may stand for something else, or whose
 * rows come from such a name: their text must go through `bindNames` when admitted.
 */
const NAMING_TAGS: ReadonlySet<string> = new Set(['DECLARE CURSOR', 'PREPARE', 'FETCH', 'EXECUTE', 'CLOSE CURSOR', 'DEALLOCATE', 'COMMIT', 'ROLLBACK', 'PREPARE TRANSACTION', 'COMMIT PREPARED', 'ROLLBACK PREPARED']);

export function touchesNames(statements: readonly { readonly tag: string }[]): boolean {
  for (const st of statements) if (NAMING_TAGS.has(st.tag) || st.tag.startsWith('DISCARD')) return true;
  return false;
}

export interface RowField {
  readonly name: string;
  readonly tableOid: number;
  readonly attnum: number;
  readonly typeOid: number;
  readonly format: number;
}

const LINEAGE_CACHE = 2000;
const reader = new BodyReader(Buffer.alloc(0));

export class WireMasking {
  readonly engine: MaskingEngine;
  readonly #connector: Connector;
  readonly #groups: readonly string[];
  #catalog: CatalogSnapshot;
  #loading: Promise<void> | undefined;
  /** Lineage per SQL text for the current catalog; cleared when the catalog changes. */
  readonly #lineage = new Map<string, StatementLineage[]>();
  /**
   * Plans by RowDescription bytes (+ profiles, + SQL when lineage was needed): a repeated
   * statement costs a lookup, not a plan. A plan is used by one result at a time on this
   * connection (results arrive in order), so sharing it across executions is safe.
   */
  readonly #plans = new Map<string, MaskPlan | null>();
  /** What DECLARE/PREPARE defined, for FETCH/EXECUTE later in the session. */
  readonly #defined = new Map<string, StatementLineage>();
  /**
   * The last plan that depended on the RowDescription alone, with its bytes: a connection
   * usually repeats one result shape, and comparing bytes costs no string or hash per result.
   */
  #namesDistrusted = false;
  #last: { readonly shape: Buffer; readonly profiles: readonly string[] | undefined; readonly plan: MaskPlan | null } | undefined;

  private constructor(engine: MaskingEngine, connector: Connector, groups: readonly string[], catalog: CatalogSnapshot) {
    this.engine = engine;
    this.#connector = connector;
    this.#groups = groups;
    this.#catalog = catalog;
  }

  /** Loads the catalog first: a session never starts with a blind masker. */
  static async open(engine: MaskingEngine, connector: Connector, groups: readonly string[]): Promise<WireMasking> {
    const catalog = connector.catalog ? await connector.catalog() : CatalogSnapshot.unknown(Date.now(), 'this connection has no catalog');
    return new WireMasking(engine, connector, groups, catalog);
  }

  /** After DDL: until the fresh catalog arrives, lineage through changed objects is unknown. */
  invalidate(): void {
    this.#connector.invalidateCatalog?.();
    this.#catalog = CatalogSnapshot.unknown(Date.now(), 'reloading after DDL');
    this.#lineage.clear();
    this.#plans.clear();
    this.#last = undefined;
    this.refresh();
  }

  #lastForced = 0;

  /** At most every few seconds: new tables appear soon, and a flood of them costs one load. */
  #reloadSoon(): void {
    const now = Date.now();
    if (now - this.#lastForced < 5000 || this.#loading) return;
    this.#lastForced = now;
    this.#connector.invalidateCatalog?.();
    this.refresh();
  }

  /** Picks up a newer snapshot (the connector reloads in the background after its TTL). */
  refresh(): void {
    if (this.#loading || !this.#connector.catalog) return;
    this.#loading = this.#connector
      .catalog()
      .then(
        (c) => {
          if (c !== this.#catalog) {
            this.#catalog = c;
            this.#lineage.clear();
            this.#plans.clear();
            this.#last = undefined;
          }
        },
        () => {},
      )
      .finally(() => (this.#loading = undefined));
  }

  lineageOf(sql: string): StatementLineage[] {
    let l = this.#lineage.get(sql);
    if (l === undefined) {
      l = sqlLineage(sql, this.#catalog);
      if (this.#lineage.size >= LINEAGE_CACHE) this.#lineage.clear();
      this.#lineage.set(sql, l);
    }
    return l;
  }

  /**
   * A text that DECLAREs, PREPAREs, FETCHes, EXECUTEs, CLOSEs, DEALLOCATEs or ends a
   * transaction was admitted (simple Query or extended Execute; admission order is the order
   * the server runs them). Its statements take effect in their order — definitions, then
   * forgetting — and each FETCH/EXECUTE is bound to what its name stands for at its place:
   * a later redefinition, in the same text or a pipelined one, cannot change what an earlier
   * FETCH is traced to.
   */
  bindNames(sql: string): ReadonlyMap<number, StatementLineage | undefined> | undefined {
    let bound: Map<number, StatementLineage | undefined> | undefined;
    this.lineageOf(sql).forEach((s, i) => {
      if (s.forgets !== undefined) {
        for (const key of [...this.#defined.keys()]) if (s.forgets === 'all' || key.startsWith(`${s.forgets}:`)) this.#defined.delete(key);
      }
      if (s.defines) this.#defined.set(`${s.defines.kind}:${s.defines.name}`, s);
      if (s.uses) (bound ??= new Map()).set(i, this.#defined.get(`${s.uses.kind}:${s.uses.name}`));
    });
    return bound;
  }

  /** The lineage of the `index`-th row-returning statement of `stmt`. */
  #resultLineage(stmt: MaskedStatement, index: number): StatementLineage | undefined {
    // DECLARE and PREPARE carry their query's columns but return no rows themselves.
    const all: [StatementLineage, number][] = [];
    this.lineageOf(stmt.sql).forEach((s, i) => {
      if ((s.columns.length > 0 || s.uses !== undefined || !s.exact) && s.defines === undefined) all.push([s, i]);
    });
    const at = all[index] ?? (all.length === 1 ? all[0] : undefined);
    if (at === undefined) return undefined;
    // What the name stood for when this statement was admitted; never what it means now.
    if (at[0].uses) return stmt.bound?.get(at[1]);
    return at[0];
  }

  /** The plan for a RowDescription frame `buf[start, end)`, cached per shape. */
  planFor(stmt: MaskedStatement, buf: Buffer, start: number, end: number, resultIndex: number): MaskPlan | null {
    // A plan made from a shape alone trusts its table OIDs, which a writing statement's RETURNING does not deserve.
    const byShape = stmt.writes !== true;
    const last = this.#last;
    if (byShape && last !== undefined && last.profiles === stmt.profiles && sameBody(last.shape, buf, start, end)) {
      return last.plan;
    }
    const shape = buf.toString('latin1', start + 5, end) + '\0' + (stmt.profiles?.join(',') ?? '');
    let plan = byShape ? this.#plans.get(shape) : undefined;
    if (plan !== undefined) {
      this.#remember(buf, start, end, stmt, plan);
      return plan;
    }
    const lineageKey = shape + '\0' + stmt.sql + '\0' + resultIndex;
    plan = this.#plans.get(lineageKey);
    if (plan !== undefined) return plan;
    const fields = parseRowFields(buf, start, end);
    const r = this.#plan(stmt, fields, resultIndex);
    if (this.#plans.size >= LINEAGE_CACHE) this.#plans.clear();
    // Shapes whose columns are all plain table columns never depend on the SQL text. A FETCH
    // or EXECUTE depends on what its name stands for now, which the text does not say: never cached.
    if (!r.lineageUsed || !this.lineageOf(stmt.sql).some((l) => l.uses !== undefined)) this.#plans.set(r.lineageUsed ? lineageKey : shape, r.plan);
    if (!r.lineageUsed) this.#remember(buf, start, end, stmt, r.plan);
    return r.plan;
  }

  #remember(buf: Buffer, start: number, end: number, stmt: MaskedStatement, plan: MaskPlan | null): void {
    this.#last = { shape: copyBody(buf, start, end), profiles: stmt.profiles, plan };
  }

  plan(stmt: MaskedStatement, fields: readonly RowField[], resultIndex: number): MaskPlan | null {
    return this.#plan(stmt, fields, resultIndex).plan;
  }

  #plan(stmt: MaskedStatement, fields: readonly RowField[], resultIndex: number): { plan: MaskPlan | null; lineageUsed: boolean } {
    const sources = fields.map((f) => (f.tableOid !== 0 ? this.#catalog.columnByOid(f.tableOid, f.attnum) : undefined));
    const unknownTable = fields.some((f, i) => f.tableOid !== 0 && sources[i] === undefined);
    const allTableColumns = sources.every((src) => src?.isTable === true);
    // A table the snapshot does not know (a TEMP table or view shadowing a masked one, say) must
    // not be resolved by name through the snapshot: its columns are of unknown origin. So too
    // after the session changed its search_path. A view column then stands for nothing but
    // itself no longer: only plain table columns keep their source.
    const blind = unknownTable || this.#namesDistrusted;
    const columns: ResultColumn[] = fields.map((f, i) => {
      const src = sources[i];
      const kept = src !== undefined && (src.isTable || !blind);
      return { name: f.name, typeOid: f.typeOid, format: f.format, source: kept ? `${src.schema}.${src.table}.${src.column}` : undefined, sourceIsTable: kept ? src.isTable : undefined };
    });
    // PostgreSQL names a table OID only for a plain column reference, so such a column's value
    // is that column's own: lineage (a parse per statement text) is needed only for the rest.
    // A table the snapshot has never seen was created since it loaded: fetch a fresh one.
    if (unknownTable) this.#reloadSoon();
    const plainColumns = allTableColumns && stmt.writes !== true;
    const lineage = plainColumns || blind ? undefined : this.#resultLineage(stmt, resultIndex);
    return { plan: this.engine.planMasking({ columns, lineage, profiles: stmt.profiles, groups: this.#groups }), lineageUsed: !plainColumns };
  }

  /**
   * The `copyIndex`-th COPY … TO STDOUT of the statement: columns from that COPY's lineage, the
   * format from its options. Each COPY of a multi-statement Query gets its own plan.
   */
  copyPlan(stmt: MaskedStatement, copyIndex = 0): { plan: MaskPlan | null; format: CopyFormat } {
    let format = TEXT_COPY;
    let lineage: StatementLineage | undefined;
    try {
      const tree = parseSync(stmt.sql) as { stmts?: { stmt?: { CopyStmt?: unknown } }[] };
      const at = (tree.stmts ?? []).flatMap((s, i) => (s.stmt?.CopyStmt !== undefined ? [i] : []))[copyIndex];
      if (at !== undefined) {
        format = copyFormatOf(tree.stmts![at]!.stmt!);
        lineage = this.lineageOf(stmt.sql)[at];
      }
    } catch {
      // Unparseable here means unknown lineage below: masked conservatively.
    }
    if (this.#namesDistrusted) lineage = undefined;
    const columns: ResultColumn[] = (lineage?.columns ?? [{ name: '?column?' }]).map((c) => ({ name: c.name }));
    return { plan: this.engine.planMasking({ columns, lineage, profiles: stmt.profiles, groups: this.#groups }), format };
  }

  /** Errors and notices of a statement: judged by everything any of its statements reads. */
  errorContext(stmt: MaskedStatement | undefined): ErrorMaskContext {
    return { ...this.engine.errorContext({ lineage: stmt ? this.#wholeLineage(stmt.sql) : undefined, profiles: stmt?.profiles, groups: this.#groups }), statementText: stmt?.sql };
  }

  /** All statements of a text as one (unionLineage). */
  #wholeLineage(sql: string): StatementLineage {
    const whole = unionLineage(this.lineageOf(sql));
    // Names resolved through a search_path the session changed may be other relations than the snapshot says.
    return this.#namesDistrusted ? { ...whole, exact: false } : whole;
  }

  /**
   * The session changed its search_path: an unqualified name may now mean a table, view,
   * function or operator the snapshot resolves differently. From then on, columns that are not
   * plain table columns (those PostgreSQL names by table OID) have unknown lineage: masked.
   */
  distrustNames(): void {
    if (this.#namesDistrusted) return;
    this.#namesDistrusted = true;
    this.#plans.clear();
    this.#last = undefined;
  }

  maskError(f: ErrorFields, stmt: MaskedStatement | undefined): ErrorFields | null {
    return this.engine.maskErrorMessage(f, this.errorContext(stmt));
  }

  /** A reported setting (application_name) a statement may have filled from data: judged like a notice's text. */
  maskSetting(value: string, stmt: MaskedStatement | undefined): string {
    return this.engine.maskErrorMessage({ severity: 'NOTICE', code: '00000', message: value }, this.errorContext(stmt))?.message ?? value;
  }

  /**
   * NotificationResponse: the payload is free text a trigger may have filled with PII, and the
   * channel a name a statement may have built from data (LISTEN through EXECUTE format(…)).
   * Both are scanned by the detectors and judged like a notice of the statement running now.
   */
  maskNotification(buf: Buffer, start: number, end: number, stmt?: MaskedStatement): { pid: number; channel: string; payload: string } | null {
    const r = reader.reset(buf, start + 5, end);
    const pid = r.int32();
    const channel = r.cstring();
    const payload = r.cstring();
    // A detector whose strategy is `null` blanks the whole payload.
    const maskedPayload = this.maskSetting(this.engine.maskText(payload) ?? '', stmt);
    const maskedChannel = this.maskSetting(channel, stmt);
    if (maskedPayload === payload && maskedChannel === channel) return null;
    return { pid, channel: maskedChannel, payload: maskedPayload };
  }
}

/** RowDescription with everything the masker needs. */
export function parseRowFields(buf: Buffer, start: number, end: number): RowField[] {
  const r = reader.reset(buf, start + 5, end);
  const n = r.int16();
  const out = new Array<RowField>(n);
  for (let i = 0; i < n; i++) {
    const name = r.cstring();
    const tableOid = r.int32() >>> 0;
    const attnum = r.int16();
    const typeOid = r.int32() >>> 0;
    r.int16();
    r.int32();
    const format = r.int16();
    out[i] = { name, tableOid, attnum, typeOid, format };
  }
  return out;
}
