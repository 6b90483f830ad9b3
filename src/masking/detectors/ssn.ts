import { contextBefore, scan, type Detector, type DetectorMatch } from './detector.js';

/**
 * US Social Security numbers. The dashed form is distinctive enough alone; nine bare digits
 * (or spaced 3-2-4) are a number like any other, so they count only after a word that says
 * SSN. Numbers the SSA never issues are excluded: area 000, 666 and 900–999, group 00,
 * serial 0000. https://www.ssa.gov/employer/randomization.html
 */
const DASHED = /(?<![\w-])(\d{3})-(\d{2})-(\d{4})(?![\w]|-\d)/g;
const BARE = /(?<![\w-])(\d{3})( ?)(\d{2})\2(\d{4})(?![\w]|-\d)/g;
const CONTEXT = /\b(ssn|ssns|social[\s_-]*security|soc[\s_.-]*sec|ss#|ss[\s_-]*no|taxpayer|tin)\b/i;

export function ssnValid(area: string, group: string, serial: string): boolean {
  const a = Number(area);
  return a !== 0 && a !== 666 && a < 900 && group !== '00' && serial !== '0000';
}

export const ssnDetector: Detector = {
  name: 'ssn',
  find(text: string, out: DetectorMatch[]): void {
    scan(DASHED, text, 'ssn', out, (m) => (ssnValid(m[1]!, m[2]!, m[3]!) ? [m.index, m.index + m[0].length] : undefined));
    scan(BARE, text, 'ssn', out, (m) => {
      if (!ssnValid(m[1]!, m[3]!, m[4]!)) return undefined;
      return contextBefore(text, m.index, 40, CONTEXT) ? [m.index, m.index + m[0].length] : undefined;
    });
  },
};
