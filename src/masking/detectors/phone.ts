import { contextBefore, digitsOf, scan, type Detector, type DetectorMatch } from './detector.js';

/**
 * Telephone numbers: E.164 (`+` and 8–15 digits, spaces/dots/dashes/parentheses allowed
 * between groups), North American numbers with a valid area code and exchange, and
 * trunk-prefixed national numbers (`020 7946 0958`, `01 23 45 67 89`). A run of bare digits
 * counts only after a word such as "phone" or "tel". Dates, versions, decimals and amounts
 * fail the shapes: they lack the separators, the leading 0 or +, or the digit counts.
 * https://www.itu.int/rec/T-REC-E.164
 */
const E164 = /(?<![\w+])\+[1-9](?:[ .-]?\(?\d{1,4}\)?){2,7}(?![\w]|[.-]\d)/g;
const NANP = /(?<![\w.+-])(?:\+?1[ .-])?(?:\(([2-9]\d\d)\) ?|([2-9]\d\d)([.-]))([2-9]\d\d)[.-](\d{4})(?![\w]|[.-]\d)/g;
const NATIONAL = /(?<![\w.+/-])0\d{1,4}(?:[ -]\d{2,8}){1,4}(?![\w]|[.,/-]\d)/g;
const BARE = /(?<![\w.+-])\d{10,11}(?![\w]|[.,]\d)/g;
const CONTEXT = /\b(phone|tel|telephone|mobile|cell|fax|call|contact|whatsapp|sms)\b/i;

export const phoneDetector: Detector = {
  name: 'phone',
  find(text: string, out: DetectorMatch[]): void {
    scan(E164, text, 'phone', out, (m) => {
      const n = digitsOf(m[0]).length;
      if (n < 8 || n > 15) return undefined;
      // A bare "+" followed by digits with no separators and short length is more often a sign.
      return [m.index, m.index + m[0].length];
    });
    scan(NANP, text, 'phone', out, (m) => {
      // The separator after the area code must repeat between exchange and line: `415-555.2671` is rare.
      if (m[3] !== undefined && text[m.index + m[0].length - 5] !== m[3]) return undefined;
      return [m.index, m.index + m[0].length];
    });
    scan(NATIONAL, text, 'phone', out, (m) => {
      const raw = m[0];
      const n = digitsOf(raw).length;
      if (n < 10 || n > 11) return undefined;
      const seps = raw.replace(/\d/g, '');
      if (seps.length > 0 && seps !== seps[0]!.repeat(seps.length)) return undefined;
      // `0123-4567-8901` style ids have equal-width groups of four and no trunk code shape.
      if (/^0\d{3}-\d{4}-\d{4}$/.test(raw)) return undefined;
      return [m.index, m.index + raw.length];
    });
    scan(BARE, text, 'phone', out, (m) => (contextBefore(text, m.index, 30, CONTEXT) ? [m.index, m.index + m[0].length] : undefined));
  },
};
