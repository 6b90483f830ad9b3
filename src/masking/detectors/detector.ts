/**
 * A content detector finds sensitive substrings in free text. It reports ranges, not verdicts
 * on the whole value, so the engine can replace `alice@example.com` inside a log line and keep
 * the rest of the line readable.
 */
export interface DetectorMatch {
  /** UTF-16 offsets into the scanned string, `end` exclusive. */
  start: number;
  end: number;
  detector: string;
}

export interface Detector {
  readonly name: string;
  /** Appends every match in `text` to `out`. Must not throw on any input. */
  find(text: string, out: DetectorMatch[]): void;
}

/**
 * Runs `re` (which must carry the `g` flag) over `text` and hands each match to `accept`;
 * `accept` returns the range to report (possibly narrowed) or undefined to drop the candidate.
 */
export function scan(re: RegExp, text: string, name: string, out: DetectorMatch[], accept: (m: RegExpExecArray) => readonly [number, number] | undefined): void {
  re.lastIndex = 0;
  for (let m = re.exec(text); m !== null; m = re.exec(text)) {
    if (m[0].length === 0) {
      re.lastIndex++;
      continue;
    }
    const r = accept(m);
    if (r !== undefined) out.push({ start: r[0], end: r[1], detector: name });
  }
}

/** Whether one of `words` occurs in the `window` characters before `at` (case-insensitive). */
export function contextBefore(text: string, at: number, window: number, words: RegExp): boolean {
  return words.test(text.slice(Math.max(0, at - window), at));
}

/** Digits of `s`, separators dropped. */
export function digitsOf(s: string): string {
  let d = '';
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 48 && c <= 57) d += s[i];
  }
  return d;
}
