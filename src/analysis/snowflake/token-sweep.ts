import type { FactCollector } from '../collector.js';
import type { Tokens } from './command.js';
import { functionRisks } from './risky-functions.js';

/** Function names that are risky to call (besides every SYSTEM$…), checked where a `(` follows. */
const CALLED: ReadonlySet<string> = new Set(['GET_PRESIGNED_URL', 'BUILD_SCOPED_FILE_URL', 'BUILD_STAGE_FILE_URL', 'TO_QUERY']);
/** `AT(…)`, `BEFORE(…)`, `CHANGES(…)` after a table or in CLONE: Time Travel. */
const TIME_TRAVEL: ReadonlySet<string> = new Set(['AT', 'BEFORE', 'CHANGES']);

/**
 * A pass over the raw tokens of every statement, whatever path analyzed it: the flags that a
 * token alone proves are raised here, so neither a parser tree of an unexpected shape nor a
 * statement only the tokenizer understood can hide them. Strings are not looked into; SQL that
 * runs from a string is analyzed on its own (EXECUTE IMMEDIATE, routine bodies).
 */
export function sweepTokens(t: Tokens, c: FactCollector, ddl: boolean): void {
  for (let i = 0; i < t.length; i++) {
    const tok = t.at(i)!;
    if (tok.type !== 'word' && tok.type !== 'quoted') continue;
    const upper = tok.value.toUpperCase();
    const called = t.op(i + 1, '(');
    if (upper.startsWith('SYSTEM$') || (called && CALLED.has(upper))) {
      c.functions.add(tok.type === 'quoted' ? tok.value : tok.value.toLowerCase());
      for (const r of functionRisks(upper)) c.risks.add(r);
    } else if (tok.type === 'word' && called && TIME_TRAVEL.has(upper)) {
      c.risks.add('time-travel');
    } else if (tok.type === 'word' && upper === 'NEXTVAL' && t.op(i - 1, '.')) {
      c.functions.add('nextval');
      for (const r of functionRisks(upper)) c.risks.add(r);
    } else if (ddl && tok.type === 'word') {
      sweepOption(t, i, upper, c);
    }
  }
}

/** CREATE/ALTER options that carry a risk wherever they appear. */
function sweepOption(t: Tokens, i: number, upper: string, c: FactCollector): void {
  switch (upper) {
    case 'DATA_RETENTION_TIME_IN_DAYS':
      // Zero retention: nothing can be recovered with UNDROP or Time Travel after a mistake.
      if (t.op(i + 1, '=') && /^0+(\.0*)?$/.test(t.at(i + 2)?.value ?? '')) c.risks.add('destructive');
      return;
    case 'EXTERNAL_ACCESS_INTEGRATIONS':
    case 'API_INTEGRATION':
    case 'STORAGE_INTEGRATION':
      c.risks.add('egress');
      return;
  }
}
