import type { RiskFlag } from '../facts.js';
import { Tokens, type Command, type Embedded } from './command.js';
import { embeddedQueries } from './embedded-statements.js';
import { readObjectName, relationName } from './object-names.js';
import { objectTypeAt, type ObjectType } from './object-types.js';
import { isTamperingParameter } from './session-parameters.js';

/** Words between CREATE and the object type that do not change what the statement does. */
const MODIFIERS: ReadonlySet<string> = new Set(['TEMPORARY', 'TEMP', 'LOCAL', 'GLOBAL', 'VOLATILE', 'TRANSIENT', 'SECURE', 'RECURSIVE']);
/** CREATE … AS SELECT of these copies rows into a new object, outside the source's rules (as PostgreSQL's CREATE TABLE AS). */
const COPIES_ROWS: ReadonlySet<string> = new Set(['TABLE', 'DYNAMIC TABLE', 'HYBRID TABLE', 'ICEBERG TABLE', 'INTERACTIVE TABLE', 'MATERIALIZED VIEW']);
/** ALTER DATABASE words that replicate it to, or promote it from, another account. */
const REPLICATION_WORDS: ReadonlySet<string> = new Set(['REPLICATION', 'FAILOVER', 'REFRESH', 'PRIMARY']);

export function unknownCommand(error: string): Command {
  return { kind: 'unknown', tag: 'UNKNOWN', risks: [], error };
}

interface Header {
  readonly type: ObjectType;
  /** Token after the object's name. */
  readonly next: number;
  readonly name?: string | undefined;
  readonly error?: string | undefined;
}

/** `<type> [IF [NOT] EXISTS] <name>` from token `i`. */
function header(t: Tokens, i: number, verb: string): Header | Command {
  const type = objectTypeAt(t, i);
  if (type === undefined) return unknownCommand(`${verb} ${t.at(i)?.text ?? ''} is not an object type the analyzer recognizes`);
  let j = i + type.words;
  if (t.is(j, 'IF', 'NOT', 'EXISTS')) j += 3;
  else if (t.is(j, 'IF', 'EXISTS')) j += 2;
  const n = readObjectName(t.list, j);
  if (n?.dynamic !== undefined) return { type, next: n.next, error: n.dynamic };
  return { type, next: n?.next ?? j, name: n?.parts !== undefined ? relationName(n.parts) : undefined };
}

function isHeader(h: Header | Command): h is Header {
  return 'type' in h;
}

/** CREATE [OR REPLACE | OR ALTER] [modifiers] <type> [IF NOT EXISTS] <name> … */
export function createCommand(t: Tokens): Command {
  const risks = new Set<RiskFlag>();
  let i = 1;
  // OR ALTER rewrites the object to match the new definition: columns left out are dropped.
  if (t.is(i, 'OR', 'REPLACE') || t.is(i, 'OR', 'ALTER')) {
    risks.add('destructive');
    i += 2;
  }
  while (MODIFIERS.has(t.word(i))) i++;
  const h = header(t, i, 'CREATE');
  if (!isHeader(h)) return h;
  if (h.error !== undefined) return unknownCommand(h.error);
  const { type, next } = h;
  for (const r of type.risks) risks.add(r);
  const reads: string[] = [];
  const clone = t.findTop(next, (k) => t.word(k) === 'CLONE');
  if (clone >= 0) {
    risks.add('clone');
    const src = readObjectName(t.list, clone + 1);
    if (src?.dynamic !== undefined) return unknownCommand(src.dynamic);
    if (type.relation && src?.parts !== undefined) reads.push(relationName(src.parts));
  }
  // CREATE TABLE t LIKE s copies a definition; CREATE STREAM s ON TABLE t reads t's changes.
  const source = t.word(next) === 'LIKE' ? next + 1 : type.name === 'STREAM' && t.word(next) === 'ON' ? next + 1 + (objectTypeAt(t, next + 1)?.words ?? 0) : -1;
  if (source >= 0) {
    const src = readObjectName(t.list, source);
    if (src?.dynamic !== undefined) return unknownCommand(src.dynamic);
    if (src?.parts !== undefined) reads.push(relationName(src.parts));
  }
  if (type.name === 'DATABASE' && (t.findTop(next, (k) => t.is(k, 'FROM', 'SHARE')) >= 0 || t.findTop(next, (k) => t.is(k, 'AS', 'REPLICA')) >= 0)) risks.add('sharing');
  if (type.name === 'PROCEDURE' && t.findTop(next, (k) => t.is(k, 'EXECUTE', 'AS', 'CALLER') || t.is(k, 'EXECUTE', 'AS', 'RESTRICTED')) < 0) {
    // Snowflake procedures run with their owner's rights unless told otherwise (PostgreSQL's SECURITY DEFINER).
    risks.add('privilege');
  }
  const embedded = bodies(t, type, next);
  if (type.body === 'query' && embedded.length > 0 && COPIES_ROWS.has(type.name)) risks.add('export');
  return {
    kind: type.dcl ? 'dcl' : 'ddl',
    tag: `CREATE ${type.name}`,
    risks: [...risks],
    reads,
    writes: type.relation && h.name !== undefined ? [h.name] : [],
    embedded,
    ddl: true,
  };
}

function bodies(t: Tokens, type: ObjectType, from: number): Embedded[] {
  switch (type.body) {
    case 'query':
      return embeddedQueries(t, from).map((text) => ({ text, mode: 'now' }));
    case 'statement': {
      const as = t.findTop(from, (k) => t.word(k) === 'AS');
      return as < 0 ? [] : [{ text: t.text(as + 1), mode: 'later' }];
    }
    case 'alert': {
      // IF (EXISTS (<condition query>)) THEN <action statement>
      const then = t.findTop(from, (k) => t.word(k) === 'THEN');
      if (then < 0) return [];
      const condition = embeddedQueries(new Tokens(t.list.slice(0, then), t.source), from);
      return [...condition, t.text(then + 1)].map((text) => ({ text, mode: 'later' }));
    }
    case 'procedure':
    case 'function':
      return routineBody(t, type.body, from);
    default:
      return [];
  }
}

/** The body of a Snowflake Scripting procedure or SQL UDF; other languages are not looked into. */
function routineBody(t: Tokens, body: 'procedure' | 'function', from: number): Embedded[] {
  const lang = t.findTop(from, (k) => t.word(k) === 'LANGUAGE');
  if (lang >= 0 && t.word(lang + 1) !== 'SQL') return [];
  const as = t.findTop(from, (k) => t.word(k) === 'AS' && t.word(k - 1) !== 'EXECUTE');
  if (as < 0) return [];
  const first = t.at(as + 1);
  let text = first !== undefined && (first.type === 'string' || first.type === 'dollar') ? first.value : t.text(as + 1);
  if (body === 'function' && !/^\s*(\(\s*)*(select|with)\b/i.test(text)) text = `SELECT ${text}`;
  return [{ text, mode: 'later' }];
}

/** ALTER <type> [IF EXISTS] <name> <action …> */
export function alterCommand(t: Tokens): Command {
  if (t.is(1, 'SESSION')) return alterSession(t);
  const h = header(t, 1, 'ALTER');
  if (!isHeader(h)) return h;
  if (h.error !== undefined) return unknownCommand(h.error);
  const { type, next } = h;
  // A routine or task that already exists is not new code; RESUME and MODIFY make code run.
  const risks = new Set<RiskFlag>(type.risks.filter((r) => r !== 'dynamic-code'));
  const writes = type.relation && h.name !== undefined ? [h.name] : [];
  const embedded: Embedded[] = [];
  for (let k = next; k < t.length; k++) {
    const w = t.word(k);
    if (w === 'SWAP' && t.word(k + 1) === 'WITH') {
      risks.add('destructive');
      const other = readObjectName(t.list, k + 2);
      if (type.relation && other?.parts !== undefined) writes.push(relationName(other.parts));
    } else if (w === 'RENAME' && t.word(k + 1) === 'TO') {
      // The object now answers to another name, which policies may treat differently.
      const other = readObjectName(t.list, k + 2);
      if (type.relation && other?.parts !== undefined) writes.push(relationName(other.parts));
    } else if (w === 'DROP' || w === 'PURGE') risks.add('destructive');
    else if (w === 'POLICY') risks.add('privilege');
    else if (w === 'EXECUTE' && t.word(k + 1) === 'AS') risks.add('privilege');
    else if (type.name === 'DATABASE' && REPLICATION_WORDS.has(w)) risks.add('sharing');
    else if ((w === 'RESUME' || w === 'MODIFY' || w === 'EXECUTE') && type.risks.includes('dynamic-code')) risks.add('dynamic-code');
  }
  if (type.body === 'statement') {
    const as = t.findTop(next, (k) => t.is(k, 'MODIFY', 'AS'));
    if (as >= 0) embedded.push({ text: t.text(as + 2), mode: 'later' });
  }
  return { kind: type.dcl ? 'dcl' : 'ddl', tag: `ALTER ${type.name}`, risks: [...risks], writes, embedded, ddl: true };
}

/** ALTER SESSION SET p = v … | UNSET p, … — parameters the gateway relies on are tampering. */
function alterSession(t: Tokens): Command {
  const risks = new Set<RiskFlag>();
  const set = t.word(2) === 'SET';
  if (!set && t.word(2) !== 'UNSET') return unknownCommand('ALTER SESSION must be followed by SET or UNSET');
  for (let k = 3; k < t.length; k++) {
    const tok = t.at(k)!;
    const isName = (tok.type === 'word' || tok.type === 'quoted') && (set ? t.op(k + 1, '=') : k === 3 || t.op(k - 1, ','));
    if (isName && isTamperingParameter(tok.value)) risks.add('session-tampering');
  }
  return { kind: 'session', tag: 'ALTER SESSION', risks: [...risks] };
}

/** DROP <type> [IF EXISTS] <name> [, <name> …] [CASCADE | RESTRICT] */
export function dropCommand(t: Tokens): Command {
  const h = header(t, 1, 'DROP');
  if (!isHeader(h)) return h;
  if (h.error !== undefined) return unknownCommand(h.error);
  const { type } = h;
  const writes: string[] = [];
  if (type.relation) {
    let k = h.next - 1;
    if (h.name !== undefined) writes.push(h.name);
    while (t.op(k + 1, ',')) {
      const n = readObjectName(t.list, k + 2);
      if (n?.dynamic !== undefined) return unknownCommand(n.dynamic);
      if (n?.parts === undefined) break;
      writes.push(relationName(n.parts));
      k = n.next - 1;
    }
  }
  const risks: RiskFlag[] = ['destructive'];
  if (type.dcl || type.risks.includes('privilege')) risks.push('privilege');
  return { kind: type.dcl ? 'dcl' : 'ddl', tag: `DROP ${type.name}`, risks, writes };
}

/** UNDROP <type> <name>: brings back, from Time Travel, an object a name may since have been reused for. */
export function undropCommand(t: Tokens): Command {
  const h = header(t, 1, 'UNDROP');
  if (!isHeader(h)) return h;
  if (h.error !== undefined) return unknownCommand(h.error);
  return {
    kind: h.type.dcl ? 'dcl' : 'ddl',
    tag: `UNDROP ${h.type.name}`,
    risks: ['destructive', 'time-travel'],
    writes: h.type.relation && h.name !== undefined ? [h.name] : [],
  };
}
