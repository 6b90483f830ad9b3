import { scan, type Detector, type DetectorMatch } from './detector.js';

/**
 * JSON Web Tokens in compact serialization: three base64url segments, the first two JSON
 * objects (so they begin `eyJ`). The header must decode and name an `alg` or `typ`, which
 * rules out look-alike dotted identifiers. https://www.rfc-editor.org/rfc/rfc7519#section-3
 */
const JWT = /(?<![A-Za-z0-9_-])eyJ[A-Za-z0-9_-]{4,}\.eyJ[A-Za-z0-9_-]{2,}\.[A-Za-z0-9_-]*(?![A-Za-z0-9_.-])/g;

function headerLooksReal(segment: string): boolean {
  try {
    const h = JSON.parse(Buffer.from(segment, 'base64url').toString('utf8')) as unknown;
    return typeof h === 'object' && h !== null && ('alg' in h || 'typ' in h);
  } catch {
    return false;
  }
}

export const jwtDetector: Detector = {
  name: 'jwt',
  find(text: string, out: DetectorMatch[]): void {
    if (text.indexOf('eyJ') < 0) return;
    scan(JWT, text, 'jwt', out, (m) => (headerLooksReal(m[0].slice(0, m[0].indexOf('.'))) ? [m.index, m.index + m[0].length] : undefined));
  },
};
