// A light layout for reading, not a parser: clause keywords start a new line, AND/OR are
// indented under them, and nothing inside quotes, identifiers or comments is touched.
const BREAK = ['select', 'from', 'where', 'group by', 'order by', 'having', 'limit', 'offset', 'returning', 'values', 'set', 'update', 'delete from', 'insert into', 'with', 'union all', 'union', 'left join', 'right join', 'inner join', 'full join', 'join', 'on conflict'];
const INDENT = ['and', 'or'];
const TOKEN = /('(?:[^']|'')*'|"(?:[^"]|"")*"|--[^\n]*|\/\*[\s\S]*?\*\/|\$\$[\s\S]*?\$\$)/;

export function formatSql(sql) {
  const parts = sql.split(TOKEN);
  let out = '';
  for (let i = 0; i < parts.length; i++) {
    const p = parts[i];
    if (i % 2 === 1) {
      out += p;
      continue;
    }
    let text = p.replace(/\s+/g, ' ');
    for (const k of BREAK) text = text.replace(new RegExp(`(^|\\s)(${k.replace(' ', '\\s+')})(?=\\s|\\(|$)`, 'gi'), (_m, _s, w) => `\n${w.toUpperCase()}`);
    for (const k of INDENT) text = text.replace(new RegExp(`\\s(${k})\\s`, 'gi'), (_m, w) => `\n  ${w.toUpperCase()} `);
    out += text;
  }
  return out.replace(/[ ]+\n/g, '\n').replace(/^\n+/, '').trim();
}
