/**
 * A cache key for "the same statement with different literals": the SQL text with each plain
 * number replaced by \x01 and each plain '…' string by \x02, everything else kept byte for byte.
 *
 * It is deliberately not a SQL lexer. It only vouches for token shapes it is certain of and
 * returns undefined (key on the exact text instead) on anything else: comments, dollar quotes,
 * E''/B''/X''/N''/U&'' and other prefixed strings, backslashes anywhere, exponents and
 * underscores in numbers, non-ASCII text, control characters. A wrong key could let one
 * statement borrow another's analysis, so "unsure" always means "no key".
 */
const NUMBER = '\x01';
const STRING = '\x02';
const MAX_LENGTH = 8192;

function isIdentStart(c: number): boolean {
  return (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || c === 95;
}

function isIdentPart(c: number): boolean {
  return isIdentStart(c) || (c >= 48 && c <= 57) || c === 36;
}

function isDigit(c: number): boolean {
  return c >= 48 && c <= 57;
}

export function literalKey(sql: string): string | undefined {
  const n = sql.length;
  if (n > MAX_LENGTH) return undefined;
  let out = '';
  let last = 0;
  let i = 0;
  while (i < n) {
    const c = sql.charCodeAt(i);
    if (isIdentStart(c)) {
      const start = i;
      i++;
      while (i < n && isIdentPart(sql.charCodeAt(i))) i++;
      if (i < n) {
        const next = sql.charCodeAt(i);
        // E'…', B'…', X'…', N'…', typed'…' and U&'…' / U&"…" change how the literal reads.
        if (next === 39 || next === 34) return undefined;
        if (next === 38 && i - start === 1 && (c === 85 || c === 117)) return undefined;
      }
      continue;
    }
    if (isDigit(c)) {
      const start = i;
      while (i < n && isDigit(sql.charCodeAt(i))) i++;
      if (i < n && sql.charCodeAt(i) === 46) {
        i++;
        if (i >= n || !isDigit(sql.charCodeAt(i))) return undefined;
        while (i < n && isDigit(sql.charCodeAt(i))) i++;
      }
      if (i < n) {
        const next = sql.charCodeAt(i);
        // 1e5, 1_000, 0x1F, 1.2.3, 12abc, 1'…': leave them to the real parser.
        if (isIdentPart(next) || next === 46 || next === 39 || next === 34) return undefined;
      }
      out += sql.slice(last, start) + NUMBER;
      last = i;
      continue;
    }
    switch (c) {
      case 39: {
        // '…' with '' as the only escape; a backslash anywhere means "unsure".
        const start = i;
        i++;
        for (;;) {
          if (i >= n) return undefined;
          const d = sql.charCodeAt(i);
          if (d === 92) return undefined;
          if (d === 39) {
            if (i + 1 < n && sql.charCodeAt(i + 1) === 39) {
              i += 2;
              continue;
            }
            i++;
            break;
          }
          if (d < 32 && d !== 9 && d !== 10 && d !== 13) return undefined;
          if (d > 126) return undefined;
          i++;
        }
        out += sql.slice(last, start) + STRING;
        last = i;
        continue;
      }
      case 34: {
        // "identifier" is kept verbatim; only its end matters.
        i++;
        for (;;) {
          if (i >= n) return undefined;
          const d = sql.charCodeAt(i);
          if (d === 92 || d > 126 || d < 32) return undefined;
          if (d === 34) {
            if (i + 1 < n && sql.charCodeAt(i + 1) === 34) {
              i += 2;
              continue;
            }
            i++;
            break;
          }
          i++;
        }
        continue;
      }
      case 36: {
        // $1 is a parameter; any other $ may open a dollar-quoted string.
        i++;
        if (i >= n || !isDigit(sql.charCodeAt(i))) return undefined;
        while (i < n && isDigit(sql.charCodeAt(i))) i++;
        if (i < n && isIdentPart(sql.charCodeAt(i))) return undefined;
        continue;
      }
      case 45: // --
        if (i + 1 < n && sql.charCodeAt(i + 1) === 45) return undefined;
        i++;
        continue;
      case 47: // /*
        if (i + 1 < n && sql.charCodeAt(i + 1) === 42) return undefined;
        i++;
        continue;
      case 46: // .5
        if (i + 1 < n && isDigit(sql.charCodeAt(i + 1))) return undefined;
        i++;
        continue;
      case 92: // backslash
        return undefined;
      default:
        if ((c < 32 && c !== 9 && c !== 10 && c !== 13) || c > 126) return undefined;
        i++;
    }
  }
  if (last === 0) return undefined;
  return out + sql.slice(last);
}
