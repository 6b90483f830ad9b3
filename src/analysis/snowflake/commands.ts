import type { RiskFlag, StatementKind } from '../facts.js';
import type { Command, Tokens } from './command.js';
import { alterCommand, createCommand, dropCommand, undropCommand, unknownCommand } from './ddl-commands.js';
import { blockStatements } from './embedded-statements.js';
import { partText, readObjectName, relationName, stageName } from './object-names.js';
import { objectTypeAt } from './object-types.js';
import { opensBlock } from './split.js';

const QUERY = { Query: { kind: 'read', tag: 'SELECT' } } as const;
const DML = {
  Insert: { kind: 'write', tag: 'INSERT' },
  Update: { kind: 'write', tag: 'UPDATE' },
  Delete: { kind: 'write', tag: 'DELETE' },
  Merge: { kind: 'write', tag: 'MERGE' },
} as const;

/**
 * What a statement is, from its leading keywords. Undefined when the keywords are not a
 * command we know: the statement is then `unknown`.
 * https://docs.snowflake.com/en/sql-reference/sql-all
 */
export function classifyCommand(t: Tokens): Command | undefined {
  const first = t.at(0);
  if (first === undefined) return undefined;
  if (first.type === 'op' && first.text === '(') return { kind: 'read', tag: 'SELECT', risks: [], parse: QUERY };
  switch (t.word(0)) {
    case 'SELECT':
      return { kind: 'read', tag: 'SELECT', risks: [], parse: QUERY };
    case 'WITH':
      return { kind: 'read', tag: 'SELECT', risks: [], parse: { ...QUERY, ...DML } };
    case 'INSERT':
    case 'UPDATE':
    case 'DELETE':
    case 'MERGE': {
      const variant = t.word(0) === 'INSERT' ? 'Insert' : t.word(0) === 'UPDATE' ? 'Update' : t.word(0) === 'DELETE' ? 'Delete' : 'Merge';
      return { kind: 'write', tag: t.word(0), risks: [], parse: { [variant]: DML[variant] } };
    }
    case 'TRUNCATE':
      return truncate(t);
    case 'COPY':
      return copy(t);
    case 'PUT':
    case 'GET':
    case 'LIST':
    case 'LS':
    case 'REMOVE':
    case 'RM':
      return fileCommand(t);
    case 'CREATE':
      return createCommand(t);
    case 'ALTER':
      return alterCommand(t);
    case 'DROP':
      return dropCommand(t);
    case 'UNDROP':
      return undropCommand(t);
    case 'COMMENT':
      return { kind: 'ddl', tag: 'COMMENT', risks: [] };
    case 'GRANT':
    case 'REVOKE':
      return grant(t);
    case 'USE':
      return use(t);
    case 'SET':
      return { kind: 'session', tag: 'SET', risks: [], parse: { Set: { kind: 'session', tag: 'SET' }, SetVariable: { kind: 'session', tag: 'SET' } } };
    case 'UNSET':
      return { kind: 'session', tag: 'UNSET', risks: [] };
    case 'SHOW':
      return { kind: 'read', tag: 'SHOW', risks: [] };
    case 'DESCRIBE':
    case 'DESC':
      return describe(t);
    case 'EXPLAIN': {
      const at = t.word(1) === 'USING' ? 3 : 1;
      return { kind: 'read', tag: 'EXPLAIN', risks: [], embedded: [{ text: t.text(at), mode: 'plan' }] };
    }
    case 'CALL':
      return { kind: 'write', tag: 'CALL', risks: ['dynamic-code'], parse: { Call: { kind: 'write', tag: 'CALL' } } };
    case 'EXECUTE':
      return execute(t);
    case 'BEGIN':
    case 'DECLARE':
      if (opensBlock(t.list, 0)) return block(t);
      return transaction(t, 'BEGIN');
    case 'START':
      return t.word(1) === 'TRANSACTION' ? transaction(t, 'BEGIN') : undefined;
    case 'COMMIT':
    case 'ROLLBACK':
      return transaction(t, t.word(0));
    default:
      return undefined;
  }
}

const TRANSACTION_WORDS: ReadonlySet<string> = new Set(['BEGIN', 'START', 'COMMIT', 'ROLLBACK', 'TRANSACTION', 'WORK', 'NAME']);

function transaction(t: Tokens, tag: string): Command {
  // Anything after COMMIT [WORK] / BEGIN [TRANSACTION|WORK] [NAME n] is not Snowflake syntax.
  for (let i = 0; i < t.length; i++) {
    const tok = t.at(i)!;
    if (tok.type === 'word' && TRANSACTION_WORDS.has(tok.upper)) continue;
    if (i > 0 && t.word(i - 1) === 'NAME' && (tok.type === 'word' || tok.type === 'quoted')) continue;
    return unknownCommand(`${t.text(0)} is not a transaction statement the analyzer recognizes`);
  }
  return { kind: 'tcl', tag, risks: [] };
}

/** An anonymous Snowflake Scripting block: opaque code, plus every SQL statement found inside. */
function block(t: Tokens): Command {
  // Anything between the block's END and the next `;` would be run by nobody we can name.
  if (t.word(t.length - 1) !== 'END') return unknownCommand('a BEGIN … END block must end with END');
  return { kind: 'utility', tag: 'ANONYMOUS BLOCK', risks: ['dynamic-code'], embedded: blockStatements(t, 1, t.length).map((text) => ({ text, mode: 'now' as const })) };
}

function execute(t: Tokens): Command {
  if (t.word(1) !== 'IMMEDIATE') {
    // EXECUTE TASK / ALERT / NOTEBOOK / SERVICE …: runs code defined elsewhere (as CALL does).
    const what = t.word(1);
    if (what === '') return unknownCommand('EXECUTE must name what it runs');
    return { kind: 'write', tag: `EXECUTE ${what}${what === 'JOB' && t.word(2) === 'SERVICE' ? ' SERVICE' : ''}`, risks: ['dynamic-code'] };
  }
  const body = t.at(2);
  // Only a literal, alone or with USING (…), is SQL we can see; `'…' || :v` is not.
  const alone = t.length === 3 || (t.word(3) === 'USING' && t.op(4, '(') && t.closing(4) === t.length);
  if (body !== undefined && (body.type === 'string' || body.type === 'dollar') && alone) {
    return { kind: 'utility', tag: 'EXECUTE IMMEDIATE', risks: ['dynamic-code'], embedded: [{ text: body.value, mode: 'now' }] };
  }
  if (t.word(2) === 'FROM') return unknownCommand('EXECUTE IMMEDIATE FROM runs SQL from a staged file the analyzer cannot see');
  return unknownCommand('EXECUTE IMMEDIATE runs SQL held in a variable or built by an expression; the analyzer cannot see what it is');
}

function truncate(t: Tokens): Command {
  let i = t.word(1) === 'TABLE' ? 2 : 1;
  if (t.is(i, 'IF', 'EXISTS')) i += 2;
  const n = readObjectName(t.list, i);
  if (n?.dynamic !== undefined) return unknownCommand(n.dynamic);
  return { kind: 'write', tag: 'TRUNCATE TABLE', risks: ['destructive'], writes: n?.parts !== undefined ? [relationName(n.parts)] : [] };
}

/**
 * COPY INTO <table> FROM … loads (a write); COPY INTO @stage | 'url' FROM … unloads (an
 * export). A literal URL on either side reaches a location no stage vetted: `egress`.
 * COPY FILES copies staged files. https://docs.snowflake.com/en/sql-reference/sql/copy-into-location
 */
function copy(t: Tokens): Command {
  if (t.word(1) === 'FILES') return { kind: 'utility', tag: 'COPY FILES', risks: ['file-transfer'] };
  if (t.word(1) !== 'INTO') return unknownCommand('COPY must be followed by INTO or FILES');
  const risks = new Set<RiskFlag>();
  const reads: string[] = [];
  const writes: string[] = [];
  const embedded: { text: string; mode: 'now' }[] = [];
  const target = t.at(2);
  let kind: StatementKind = 'write';
  let next = 3;
  if (target?.type === 'stage' || target?.type === 'string') {
    kind = 'read';
    risks.add('export');
    if (target.type === 'string') risks.add('egress');
    else writes.push(stageName(target.text));
  } else {
    const n = readObjectName(t.list, 2);
    if (n?.dynamic !== undefined) return unknownCommand(n.dynamic);
    if (n?.parts === undefined) return unknownCommand('COPY INTO must name a table, a stage or a location');
    writes.push(relationName(n.parts));
    next = n.next;
  }
  const from = t.findTop(next, (k) => t.word(k) === 'FROM');
  const source = t.at(from + 1);
  if (from < 0 || source === undefined) return unknownCommand('COPY INTO must say FROM where');
  if (source.type === 'stage') reads.push(stageName(source.text));
  else if (source.type === 'string') risks.add('egress');
  else if (t.op(from + 1, '(')) embedded.push({ text: t.text(from + 2, t.closing(from + 1) - 1), mode: 'now' });
  else {
    const n = readObjectName(t.list, from + 1);
    if (n?.dynamic !== undefined) return unknownCommand(n.dynamic);
    if (n?.parts !== undefined) reads.push(relationName(n.parts));
  }
  return { kind, tag: 'COPY INTO', risks: [...risks], reads, writes, embedded };
}

/** PUT/GET move files between the client and a stage; LIST and REMOVE see and delete them. */
function fileCommand(t: Tokens): Command {
  const word = t.word(0);
  const tag = word === 'LS' ? 'LIST' : word === 'RM' ? 'REMOVE' : word;
  const stage = t.list.find((x) => x.type === 'stage');
  if (stage === undefined) return unknownCommand(`${tag} must name a stage (@…)`);
  const name = stageName(stage.text);
  switch (tag) {
    case 'PUT':
      return { kind: 'utility', tag, risks: ['file-transfer'], writes: [name] };
    case 'GET':
      return { kind: 'utility', tag, risks: ['file-transfer', 'export'], reads: [name] };
    case 'REMOVE':
      return { kind: 'utility', tag, risks: ['file-transfer', 'destructive'], writes: [name] };
    default:
      return { kind: 'utility', tag, risks: ['file-transfer'], reads: [name] };
  }
}

function grant(t: Tokens): Command {
  const verb = t.word(0);
  const risks = new Set<RiskFlag>(['privilege']);
  if (t.findTop(1, (k) => (t.word(k) === 'TO' || t.word(k) === 'FROM') && t.word(k + 1) === 'SHARE') >= 0) risks.add('sharing');
  const writes: string[] = [];
  const on = t.findTop(1, (k) => t.word(k) === 'ON');
  if (on >= 0 && t.word(on + 1) !== 'ALL' && t.word(on + 1) !== 'FUTURE') {
    const type = objectTypeAt(t, on + 1);
    const n = readObjectName(t.list, on + 1 + (type?.words ?? 0));
    if (n?.dynamic !== undefined) return unknownCommand(n.dynamic);
    if (n?.parts !== undefined && (type === undefined || type.relation)) writes.push(relationName(n.parts));
  }
  return { kind: 'dcl', tag: verb, risks: [...risks], writes };
}

/**
 * USE ROLE and USE SECONDARY ROLES change what the session may do. USE DATABASE / SCHEMA change
 * what unqualified names mean; the analysis session qualifies later names accordingly.
 */
function use(t: Tokens): Command {
  const what = t.word(1);
  if (what === 'ROLE') return { kind: 'session', tag: 'USE ROLE', risks: ['privilege'] };
  if (what === 'SECONDARY') return { kind: 'session', tag: 'USE SECONDARY ROLES', risks: ['privilege'] };
  const at = what === 'DATABASE' || what === 'SCHEMA' || what === 'WAREHOUSE' ? 2 : 1;
  const n = readObjectName(t.list, at);
  if (n?.dynamic !== undefined) return unknownCommand(n.dynamic);
  if (n?.parts === undefined || n.next !== t.length) return unknownCommand('USE must name one database, schema, warehouse or role');
  const tag = at === 2 ? `USE ${what}` : 'USE';
  if (what === 'WAREHOUSE') return { kind: 'session', tag, risks: [] };
  // USE DATABASE d (or USE d) starts in its PUBLIC schema; USE SCHEMA s / USE d.s in s.
  const inSchema = what === 'SCHEMA' || (what !== 'DATABASE' && n.parts.length > 1);
  const schema = inSchema ? partText(n.parts[n.parts.length - 1]!) : 'public';
  return { kind: 'session', tag, risks: [], schema };
}

function describe(t: Tokens): Command {
  const type = objectTypeAt(t, 1);
  const at = 1 + (type?.words ?? 0);
  const n = readObjectName(t.list, at);
  if (n?.dynamic !== undefined) return unknownCommand(n.dynamic);
  const reads = n?.parts !== undefined && (type === undefined || type.relation) && t.word(1) !== 'RESULT' ? [relationName(n.parts)] : [];
  return { kind: 'read', tag: 'DESCRIBE', risks: [], reads };
}
