/**
 * Event times as ISO-8601 strings, cheaply. Under load many events share a millisecond, so a
 * one-entry memo turns most `toISOString` and `Date.parse` calls into a comparison — and the
 * string handed out is the same object each time, which makes that comparison a pointer check.
 */
let formattedMs = Number.NaN;
let formatted = '';
let parsed = '';
let parsedMs = Number.NaN;

export function isoTime(ms: number): string {
  // The Date constructor truncates; so does the memo, or 1.5 and 1 would format differently.
  const t = Math.trunc(ms);
  if (t !== formattedMs) {
    formatted = new Date(t).toISOString();
    formattedMs = t;
  }
  return formatted;
}

/** Epoch ms of an event's `time`; NaN when it is not a date (verify reports the mismatch). */
export function timeMsOf(iso: string): number {
  if (iso === formatted) return formattedMs;
  // A separate memo: a string read from a store (any spelling Date.parse accepts) must never be handed out by isoTime.
  if (iso !== parsed) {
    parsedMs = Date.parse(iso);
    parsed = iso;
  }
  return parsedMs;
}
