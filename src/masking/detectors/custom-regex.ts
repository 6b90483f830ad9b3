import { scan, type Detector, type DetectorMatch } from './detector.js';

/**
 * A user-defined detector from config. The pattern is compiled once with the `g` flag added;
 * a capture group named `value` narrows the replaced range to that group, so a pattern can
 * require context (`employee id: (?<value>E\d{6})`) without masking the context itself.
 */
export function customRegexDetector(name: string, pattern: string, flags = ''): Detector {
  const f = flags.includes('g') ? flags : flags + 'g';
  const re = new RegExp(pattern, f.includes('d') ? f : f + 'd');
  return {
    name,
    find(text: string, out: DetectorMatch[]): void {
      scan(re, text, name, out, (m) => {
        const g = m.indices?.groups?.['value'];
        if (g !== undefined) return g[1] > g[0] ? [g[0], g[1]] : undefined;
        return [m.index, m.index + m[0].length];
      });
    },
  };
}
