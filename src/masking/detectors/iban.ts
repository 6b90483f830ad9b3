import { scan, type Detector, type DetectorMatch } from './detector.js';

/**
 * International Bank Account Numbers: country code, two check digits, then the BBAN, printed
 * bare or in groups of four, validated by ISO 7064 mod 97-10 and the country's fixed length.
 * https://www.iso13616.org/ (the registry) · ECBS TR201
 */
const CANDIDATE = /(?<![A-Za-z0-9])([A-Z]{2})(\d{2})((?: ?[A-Z0-9]{4}){2,7}(?: ?[A-Z0-9]{1,4})?)(?![A-Za-z0-9])/g;

const LENGTHS: Readonly<Record<string, number>> = {
  AD: 24, AE: 23, AL: 28, AT: 20, AZ: 28, BA: 20, BE: 16, BG: 22, BH: 22, BR: 29, CH: 21, CR: 22, CY: 28, CZ: 24,
  DE: 22, DK: 18, DO: 28, EE: 20, EG: 29, ES: 24, FI: 18, FO: 18, FR: 27, GB: 22, GE: 22, GI: 23, GL: 18, GR: 27,
  GT: 28, HR: 21, HU: 28, IE: 22, IL: 23, IS: 26, IT: 27, JO: 30, KW: 30, KZ: 20, LB: 28, LI: 21, LT: 20, LU: 20,
  LV: 21, MC: 27, MD: 24, ME: 22, MK: 19, MR: 27, MT: 31, MU: 30, NL: 18, NO: 15, PK: 24, PL: 28, PS: 29, PT: 25,
  QA: 29, RO: 24, RS: 22, SA: 24, SE: 24, SI: 19, SK: 24, SM: 27, TN: 24, TR: 26, UA: 29, VG: 24, XK: 20,
};

export function ibanValid(compact: string): boolean {
  const expected = LENGTHS[compact.slice(0, 2)];
  if (expected === undefined || compact.length !== expected) return false;
  const rearranged = compact.slice(4) + compact.slice(0, 4);
  let rem = 0;
  for (let i = 0; i < rearranged.length; i++) {
    const c = rearranged.charCodeAt(i);
    const v = c <= 57 ? c - 48 : c - 55;
    rem = v >= 10 ? (rem * 100 + v) % 97 : (rem * 10 + v) % 97;
  }
  return rem === 1;
}

export const ibanDetector: Detector = {
  name: 'iban',
  find(text: string, out: DetectorMatch[]): void {
    scan(CANDIDATE, text, 'iban', out, (m) => {
      let raw = m[0];
      let compact = raw.replace(/ /g, '');
      // The last group may have swallowed a following word; retry without it.
      if (!ibanValid(compact)) {
        const cut = raw.lastIndexOf(' ');
        if (cut < 0) return undefined;
        raw = raw.slice(0, cut);
        compact = raw.replace(/ /g, '');
        if (!ibanValid(compact)) return undefined;
      }
      return [m.index, m.index + raw.length];
    });
  },
};
