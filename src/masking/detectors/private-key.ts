import { scan, type Detector, type DetectorMatch } from './detector.js';

/**
 * PEM-armoured private keys (PKCS#1, PKCS#8, EC, OpenSSH, encrypted), whole: from the BEGIN
 * line to the END line, or to the end of the base64 body when the text was cut short.
 * https://www.rfc-editor.org/rfc/rfc7468
 */
const PEM = /-----BEGIN ((?:[A-Z0-9]+ )*)PRIVATE KEY(?: BLOCK)?-----(?:[\s\S]*?-----END \1PRIVATE KEY(?: BLOCK)?-----|[A-Za-z0-9+/=:,\-\s\\n]*)/g;

export const privateKeyDetector: Detector = {
  name: 'private_key',
  find(text: string, out: DetectorMatch[]): void {
    if (text.indexOf('-----BEGIN') < 0) return;
    scan(PEM, text, 'private_key', out, (m) => [m.index, m.index + m[0].length]);
  },
};
