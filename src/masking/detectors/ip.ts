import { isIPv6 } from 'node:net';
import { scan, type Detector, type DetectorMatch } from './detector.js';

/**
 * IPv4 and IPv6 addresses. A dotted quad is also what version numbers look like, so a quad
 * right after "v" or "version" is left alone, as are longer dotted runs (OIDs, `1.2.3.4.5`).
 * IPv6 candidates are confirmed with the platform parser; times (`12:30:45`) and MAC
 * addresses (six groups, no `::`) do not parse.
 */
const OCTET = '(?:25[0-5]|2[0-4]\\d|1\\d\\d|[1-9]?\\d)';
const V4 = new RegExp(`(?<![\\w.])${OCTET}(?:\\.${OCTET}){3}(?:/\\d{1,2})?(?![\\w]|\\.\\d)`, 'g');
const V6 = /(?<![\w:.])(?:[0-9A-Fa-f]{0,4}:){2,7}(?:\d{1,3}(?:\.\d{1,3}){3}|[0-9A-Fa-f]{0,4})(?:%[\w.]+)?(?:\/\d{1,3})?(?![\w:])/g;
const VERSION_BEFORE = /(?:\bv|version|ver\.?|release|build|rev)\s*$/i;

export const ipDetector: Detector = {
  name: 'ip',
  find(text: string, out: DetectorMatch[]): void {
    const before = out.length;
    if (text.indexOf(':') >= 0) {
      scan(V6, text, 'ip', out, (m) => {
        const addr = m[0].replace(/\/\d+$/, '').replace(/%.*$/, '');
        if (!isIPv6(addr)) return undefined;
        // `::` alone and `a::b`-style tokens with no digits are more often code than addresses.
        if (!/\d/.test(addr) || addr.length < 3) return undefined;
        return [m.index, m.index + m[0].length];
      });
    }
    const v6 = out.slice(before);
    if (text.indexOf('.') >= 0) {
      scan(V4, text, 'ip', out, (m) => {
        // The tail of an IPv4-mapped IPv6 address is already inside a match.
        if (v6.some((r) => m.index >= r.start && m.index < r.end)) return undefined;
        return VERSION_BEFORE.test(text.slice(Math.max(0, m.index - 10), m.index)) ? undefined : [m.index, m.index + m[0].length];
      });
    }
  },
};
