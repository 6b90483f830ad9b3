import type { RiskFlag } from '../facts.js';
import type { Tokens } from './command.js';

/**
 * The object types CREATE, ALTER, DROP, UNDROP, DESCRIBE and GRANT … ON name, and what creating
 * or changing each one means for policy. A type not listed here makes CREATE/ALTER/DROP
 * `unknown`: we would rather refuse a new kind of object than guess what it does.
 * https://docs.snowflake.com/en/sql-reference/sql-all
 */
export interface ObjectType {
  /** As written in a command tag: `TABLE`, `MATERIALIZED VIEW`, `STORAGE INTEGRATION`. */
  readonly name: string;
  /** How many tokens the type takes. */
  readonly words: number;
  /** Holds rows: its name is reported among reads and writes. */
  readonly relation: boolean;
  /** Creating or altering one changes who may do what. */
  readonly dcl: boolean;
  /** Flags of CREATE and ALTER. DROP is always `destructive`, plus `privilege` for dcl types. */
  readonly risks: readonly RiskFlag[];
  /** What SQL the CREATE may carry: a query (CTAS, views), a statement run later, a routine body. */
  readonly body?: 'query' | 'statement' | 'procedure' | 'function' | 'alert' | undefined;
}

interface Spec {
  relation?: boolean;
  dcl?: boolean;
  risks?: readonly RiskFlag[];
  body?: ObjectType['body'];
}

const FIXED: Readonly<Record<string, Spec>> = {
  TABLE: { relation: true, body: 'query' },
  'EXTERNAL TABLE': { relation: true },
  'DYNAMIC TABLE': { relation: true, body: 'query' },
  'HYBRID TABLE': { relation: true, body: 'query' },
  'ICEBERG TABLE': { relation: true, body: 'query' },
  'EVENT TABLE': { relation: true },
  'INTERACTIVE TABLE': { relation: true, body: 'query' },
  VIEW: { relation: true, body: 'query' },
  'MATERIALIZED VIEW': { relation: true, body: 'query' },
  'SEMANTIC VIEW': { relation: true },
  STREAM: { relation: true },
  SCHEMA: {},
  DATABASE: {},
  SEQUENCE: {},
  'FILE FORMAT': {},
  TAG: {},
  WAREHOUSE: {},
  'RESOURCE MONITOR': {},
  'COMPUTE POOL': {},
  'IMAGE REPOSITORY': {},
  MODEL: {},
  SNAPSHOT: {},
  DATASET: {},
  CONTACT: {},
  'CORTEX SEARCH SERVICE': { body: 'query' },
  STAGE: { risks: ['egress'] },
  'NETWORK RULE': { risks: ['egress'] },
  SECRET: { risks: ['egress'] },
  'EXTERNAL VOLUME': { risks: ['egress'] },
  'GIT REPOSITORY': { risks: ['egress'] },
  'EXTERNAL FUNCTION': { risks: ['egress', 'dynamic-code'] },
  PIPE: { risks: ['dynamic-code'], body: 'statement' },
  TASK: { risks: ['dynamic-code'], body: 'statement' },
  ALERT: { risks: ['dynamic-code'], body: 'alert' },
  PROCEDURE: { risks: ['dynamic-code'], body: 'procedure' },
  FUNCTION: { risks: ['dynamic-code'], body: 'function' },
  'AGGREGATE FUNCTION': { risks: ['dynamic-code'], body: 'function' },
  'DATA METRIC FUNCTION': { risks: ['dynamic-code'], body: 'function' },
  NOTEBOOK: { risks: ['dynamic-code'] },
  STREAMLIT: { risks: ['dynamic-code'] },
  SERVICE: { risks: ['dynamic-code'] },
  'DBT PROJECT': { risks: ['dynamic-code'] },
  APPLICATION: { risks: ['dynamic-code'] },
  'APPLICATION PACKAGE': { risks: ['dynamic-code', 'sharing'] },
  USER: { dcl: true, risks: ['privilege'] },
  ROLE: { dcl: true, risks: ['privilege'] },
  'DATABASE ROLE': { dcl: true, risks: ['privilege'] },
  'APPLICATION ROLE': { dcl: true, risks: ['privilege'] },
  ACCOUNT: { dcl: true, risks: ['privilege'] },
  'MANAGED ACCOUNT': { dcl: true, risks: ['privilege', 'sharing'] },
  SHARE: { risks: ['sharing'] },
  'REPLICATION GROUP': { risks: ['sharing'] },
  'FAILOVER GROUP': { risks: ['sharing'] },
  CONNECTION: { risks: ['sharing'] },
  LISTING: { risks: ['sharing'] },
  'ORGANIZATION LISTING': { risks: ['sharing'] },
  'DATA EXCHANGE LISTING': { risks: ['sharing'] },
};

const PHRASES = Object.keys(FIXED).sort((a, b) => b.split(' ').length - a.split(' ').length);

function make(name: string, s: Spec): ObjectType {
  return { name, words: name.split(' ').length, relation: s.relation ?? false, dcl: s.dcl ?? false, risks: s.risks ?? [], body: s.body };
}

/**
 * The object type written at token `i`. Any `… INTEGRATION` (API, STORAGE, NOTIFICATION,
 * EXTERNAL ACCESS, CATALOG, SECURITY …) opens a way out of the account; any `… POLICY`
 * (MASKING, ROW ACCESS, NETWORK, PASSWORD, SESSION …) governs access.
 */
export function objectTypeAt(t: Tokens, i: number): ObjectType | undefined {
  for (const p of PHRASES) {
    const words = p.split(' ');
    if (t.is(i, ...words)) return make(p, FIXED[p]!);
  }
  for (let k = 0; k < 4; k++) {
    const w = t.word(i + k);
    if (w === '') return undefined;
    const name = Array.from({ length: k + 1 }, (_, j) => t.word(i + j)).join(' ');
    if (w === 'INTEGRATION') return make(name, { risks: name.startsWith('SECURITY') ? ['egress', 'privilege'] : ['egress'] });
    if (w === 'POLICY') return make(name, { risks: ['privilege'] });
  }
  return undefined;
}
