import { scan, digitsOf, type Detector, type DetectorMatch } from './detector.js';

/**
 * Payment card numbers: 13–19 digits, optionally grouped by one kind of separator, that pass
 * the Luhn check and start with an issuer prefix in use. Luhn alone accepts one random number
 * in ten; the prefix table cuts most order ids and the separator rule most phone-like runs.
 * https://en.wikipedia.org/wiki/Payment_card_number
 */
const CANDIDATE = /(?<![\w.,-])\d(?:[ -]?\d){12,18}(?![\w]|[.,-]\d)/g;

export function luhnValid(digits: string): boolean {
  let sum = 0;
  let dbl = false;
  for (let i = digits.length - 1; i >= 0; i--) {
    let d = digits.charCodeAt(i) - 48;
    if (dbl) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
    dbl = !dbl;
  }
  return sum % 10 === 0;
}

/** Issuer identification number ranges of the networks cards are commonly issued on. */
export function knownIssuer(d: string): boolean {
  const n = d.length;
  const p2 = Number(d.slice(0, 2));
  const p3 = Number(d.slice(0, 3));
  const p4 = Number(d.slice(0, 4));
  const p6 = Number(d.slice(0, 6));
  if (d[0] === '4') return n === 13 || n === 16 || n === 19; // Visa
  if (p2 >= 51 && p2 <= 55) return n === 16; // Mastercard
  if (p4 >= 2221 && p4 <= 2720) return n === 16; // Mastercard 2-series
  if (p2 === 34 || p2 === 37) return n === 15; // American Express
  if (p4 === 6011 || p2 === 65 || (p3 >= 644 && p3 <= 649) || (p6 >= 622126 && p6 <= 622925)) return n >= 16 && n <= 19; // Discover
  if (p4 >= 3528 && p4 <= 3589) return n >= 16 && n <= 19; // JCB
  if ((p3 >= 300 && p3 <= 305) || p2 === 36 || p2 === 38 || p2 === 39) return n >= 14 && n <= 19; // Diners
  if (p2 === 62) return n >= 16 && n <= 19; // UnionPay
  if (p2 === 50 || (p2 >= 56 && p2 <= 69)) return n >= 12 && n <= 19; // Maestro
  return false;
}

/** Grouped numbers must use one separator and groups of 4 (Amex 4-6-5, Diners 4-6-4). */
function groupingPlausible(raw: string): boolean {
  const sep = raw.search(/[ -]/);
  if (sep < 0) return true;
  const ch = raw[sep]!;
  const groups = raw.split(ch);
  if (groups.some((g) => !/^\d+$/.test(g))) return false;
  const sizes = groups.map((g) => g.length).join(',');
  return /^(4,)+\d{1,4}$/.test(sizes) || sizes === '4,6,5' || sizes === '4,6,4';
}

export const cardDetector: Detector = {
  name: 'card',
  find(text: string, out: DetectorMatch[]): void {
    scan(CANDIDATE, text, 'card', out, (m) => {
      const raw = m[0];
      const d = digitsOf(raw);
      if (d.length < 13 || d.length > 19) return undefined;
      if (!groupingPlausible(raw) || !knownIssuer(d) || !luhnValid(d)) return undefined;
      return [m.index, m.index + raw.length];
    });
  },
};
