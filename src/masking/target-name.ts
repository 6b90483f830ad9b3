/**
 * The name PostgreSQL gives an unaliased output column (FigureColname in parse_target.c), so
 * that an outer query naming a subquery's or CTE's column finds the column we traced.
 * https://github.com/postgres/postgres/blob/master/src/backend/parser/parse_target.c
 */
type Obj = Record<string, unknown>;

const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

function lastString(list: unknown): string | undefined {
  if (!Array.isArray(list)) return undefined;
  for (let i = list.length - 1; i >= 0; i--) {
    const s = list[i];
    if (isObj(s) && isObj(s['String']) && typeof s['String']['sval'] === 'string') return s['String']['sval'];
  }
  return undefined;
}

export function figureName(node: unknown): string {
  return figure(node) ?? '?column?';
}

function figure(node: unknown): string | undefined {
  if (!isObj(node)) return undefined;
  for (const type in node) {
    const b = node[type];
    if (!isObj(b)) continue;
    switch (type) {
      case 'ColumnRef': {
        const f = b['fields'];
        const last = Array.isArray(f) ? f[f.length - 1] : undefined;
        return isObj(last) && 'A_Star' in last ? undefined : lastString(f);
      }
      case 'A_Indirection':
        return lastString(b['indirection']) ?? figure(b['arg']);
      case 'FuncCall':
        return lastString(b['funcname']);
      case 'TypeCast':
        return figure(b['arg']) ?? (isObj(b['typeName']) ? lastString(b['typeName']['names']) : undefined);
      case 'CollateClause':
        return figure(b['arg']);
      case 'CaseExpr':
        return 'case';
      case 'CoalesceExpr':
        return 'coalesce';
      case 'MinMaxExpr':
        return b['op'] === 'IS_LEAST' ? 'least' : 'greatest';
      case 'A_ArrayExpr':
        return 'array';
      case 'RowExpr':
        return 'row';
      case 'NullIfExpr':
        return 'nullif';
      case 'SubLink':
        switch (b['subLinkType']) {
          case 'EXISTS_SUBLINK':
            return 'exists';
          case 'ARRAY_SUBLINK':
            return 'array';
          case 'EXPR_SUBLINK': {
            const sel = isObj(b['subselect']) ? b['subselect']['SelectStmt'] : undefined;
            const tl = isObj(sel) ? sel['targetList'] : undefined;
            const first = Array.isArray(tl) && isObj(tl[0]) ? tl[0]['ResTarget'] : undefined;
            if (!isObj(first)) return undefined;
            return typeof first['name'] === 'string' ? first['name'] : figure(first['val']);
          }
          default:
            return undefined;
        }
      case 'SQLValueFunction': {
        const op = typeof b['op'] === 'string' ? b['op'] : '';
        return op.replace(/^SVFOP_/, '').replace(/_N$/, '').toLowerCase() || undefined;
      }
      case 'XmlExpr': {
        const op = typeof b['op'] === 'string' ? b['op'] : '';
        return op.replace(/^IS_/, '').toLowerCase() || undefined;
      }
      default:
        return undefined;
    }
  }
  return undefined;
}
