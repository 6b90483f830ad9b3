import { scan, type Detector, type DetectorMatch } from './detector.js';

/**
 * Email addresses with a dotted domain and an alphabetic top-level label, so `pkg@1.2.3`,
 * `user@localhost` and `@handles` stay. https://www.rfc-editor.org/rfc/rfc5322#section-3.4.1
 * (the common subset; quoted local parts are rare enough in data to leave out).
 */
const EMAIL = /(?<![\w.%+-])[A-Za-z0-9_%+-](?:[A-Za-z0-9._%+-]{0,62}[A-Za-z0-9_%+-])?@(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,24}(?![\w-]|\.[A-Za-z0-9])/g;

export const emailDetector: Detector = {
  name: 'email',
  find(text: string, out: DetectorMatch[]): void {
    if (text.indexOf('@') < 0) return;
    scan(EMAIL, text, 'email', out, (m) => (m[0].includes('..') ? undefined : [m.index, m.index + m[0].length]));
  },
};
