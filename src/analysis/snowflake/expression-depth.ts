import type { Token } from './lexer.js';

/**
 * An upper bound on how deep the parser's tree for a statement can get, from its tokens alone.
 *
 * sqlparser-rs guards its recursive descent, but a chain of binary or postfix operators
 * (`a + b + c …`, `x::int::int …`, `a OR b OR …`) is parsed in a loop into a left-deep tree,
 * and converting that tree to JavaScript recurses once per operator: around 700 of them
 * overflow the WASM stack. So we count operators per nesting level — parentheses, brackets and
 * CASE … END nest; commas and clause keywords start a new operand — and add the counts along
 * the deepest path. Statements over the limit are not given to the parser.
 */
export const MAX_EXPRESSION_DEPTH = 256;

const OPERATOR_WORDS: ReadonlySet<string> = new Set(['AND', 'OR', 'NOT', 'IS', 'LIKE', 'ILIKE', 'RLIKE', 'REGEXP', 'BETWEEN', 'IN', 'COLLATE', 'UNION', 'EXCEPT', 'MINUS', 'INTERSECT']);
const SEPARATOR_WORDS: ReadonlySet<string> = new Set(['SELECT', 'FROM', 'WHERE', 'JOIN', 'ON', 'GROUP', 'ORDER', 'HAVING', 'QUALIFY', 'WHEN', 'THEN', 'ELSE', 'SET', 'VALUES', 'LIMIT', 'USING']);
const NON_OPERATORS: ReadonlySet<string> = new Set(['(', ')', '[', ']', '{', '}', ',', '.', ';', '=>', '->']);

interface Level {
  count: number;
  child: number;
  best: number;
}

export function expressionDepth(tokens: readonly Token[]): number {
  const stack: Level[] = [{ count: 0, child: 0, best: 0 }];
  const top = (): Level => stack[stack.length - 1]!;
  const endSegment = (l: Level): void => {
    l.best = Math.max(l.best, l.count + l.child);
    l.count = 0;
    l.child = 0;
  };
  const close = (): void => {
    if (stack.length === 1) return;
    const l = stack.pop()!;
    endSegment(l);
    const parent = top();
    parent.child = Math.max(parent.child, l.best);
  };
  for (const t of tokens) {
    if (t.type === 'op') {
      if (t.text === '(' || t.text === '[' || t.text === '{') stack.push({ count: 0, child: 0, best: 0 });
      else if (t.text === ')' || t.text === ']' || t.text === '}') close();
      else if (t.text === ',') endSegment(top());
      else if (!NON_OPERATORS.has(t.text)) top().count++;
    } else if (t.type === 'word') {
      if (t.upper === 'CASE') stack.push({ count: 0, child: 0, best: 0 });
      else if (t.upper === 'END') close();
      else if (OPERATOR_WORDS.has(t.upper)) top().count++;
      else if (SEPARATOR_WORDS.has(t.upper)) endSegment(top());
    }
  }
  while (stack.length > 1) close();
  endSegment(top());
  return top().best;
}
