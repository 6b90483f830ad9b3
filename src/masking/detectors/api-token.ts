import { scan, type Detector, type DetectorMatch } from './detector.js';

/**
 * API tokens: the vendor prefixes that announce themselves (GitHub, OpenAI/Anthropic, Slack,
 * Stripe, GitLab, npm, Google, SendGrid, Hugging Face, DigitalOcean, Shopify), plus any long
 * token whose characters are random enough. The entropy rule needs a minimum length and a
 * mix of upper case, lower case and digits, so words, paths, hex digests, UUIDs and
 * version strings stay below it.
 */
const PREFIXES = new RegExp(
  [
    'gh[pousr]_[A-Za-z0-9]{36,255}',
    'github_pat_[A-Za-z0-9_]{60,255}',
    'sk-(?:proj-|ant-(?:api|admin)\\d\\d-|svcacct-)?[A-Za-z0-9_-]{20,}',
    'xox[abposr]-[A-Za-z0-9-]{10,}',
    'xapp-\\d-[A-Za-z0-9-]{10,}',
    '(?:sk|pk|rk)_(?:live|test)_[A-Za-z0-9]{16,}',
    'whsec_[A-Za-z0-9]{24,}',
    'glpat-[A-Za-z0-9_-]{20,}',
    'npm_[A-Za-z0-9]{36}',
    'AIza[0-9A-Za-z_-]{35}',
    'SG\\.[A-Za-z0-9_-]{22}\\.[A-Za-z0-9_-]{43}',
    'hf_[A-Za-z]{30,}',
    'do[por]_v1_[a-f0-9]{64}',
    'shp(?:at|ca|pa|ss)_[a-fA-F0-9]{32}',
  ].join('|'),
  'g',
);
const PREFIXED_BOUNDED = new RegExp(`(?<![A-Za-z0-9_-])(?:${PREFIXES.source})(?![A-Za-z0-9_-])`, 'g');
const TOKEN = /(?<![A-Za-z0-9_+/=-])[A-Za-z0-9_+/-]{16,512}={0,2}(?![A-Za-z0-9_+/=-])/g;
/** Certificates and public keys are base64 too, and not secret. */
const PUBLIC_PEM = /-----BEGIN (?![A-Z0-9 ]*PRIVATE)[A-Z0-9 ]+-----[\s\S]*?(?:-----END [A-Z0-9 ]+-----|$)/g;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export interface ApiTokenOptions {
  /** Shortest unprefixed token the entropy rule considers. */
  minLength: number;
  /** Shannon entropy, bits per character, a token must reach. */
  minEntropy: number;
}

export const DEFAULT_API_TOKEN_OPTIONS: ApiTokenOptions = { minLength: 24, minEntropy: 4.0 };

export function shannonEntropy(s: string): number {
  const counts = new Map<number, number>();
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    counts.set(c, (counts.get(c) ?? 0) + 1);
  }
  let h = 0;
  for (const n of counts.values()) {
    const p = n / s.length;
    h -= p * Math.log2(p);
  }
  return h;
}

/** Right after `secret=`, `token:`, `api_key` … a token needs less randomness to count. */
const SECRET_CONTEXT = /(secret|token|api[_-]?key|apikey|passw(or)?d|pwd|auth|bearer|credential)s?["']?\s*[:=]?\s*["']?$/i;

function randomLooking(s: string, o: ApiTokenOptions, named: boolean): boolean {
  if (s.length < (named ? 16 : o.minLength)) return false;
  if (/^[0-9a-fA-F-]+$/.test(s) || UUID.test(s)) return false;
  if (!/[a-z]/.test(s) || !/[A-Z]/.test(s) || !/\d/.test(s)) return false;
  // snake_case or kebab-case identifiers: several lower-case words joined.
  if (/^[A-Za-z]+(?:[_-][A-Za-z0-9]+){2,}$/.test(s) && !/\d{3}/.test(s)) return false;
  // CamelCase and words: most characters sit in runs of four or more lower-case letters.
  let inRuns = 0;
  for (const run of s.match(/[a-z]{4,}/g) ?? []) inRuns += run.length;
  if (inRuns / s.length > 0.45) return false;
  if (isBase64OfProse(s)) return false;
  // base64 of text and most identifiers stay near 3.5–3.9 bits; keys drawn at random exceed 4.
  return shannonEntropy(s) >= (named ? o.minEntropy - 0.5 : o.minEntropy);
}

/** base64 that decodes to words is encoded text, not a key — unless it looks like `user:password`. */
function isBase64OfProse(s: string): boolean {
  if (/[-_]/.test(s)) return false;
  const t = Buffer.from(s + '='.repeat((4 - (s.length % 4)) % 4), 'base64').toString('latin1');
  return /^[\x20-\x7e]+$/.test(t) && / [a-z]+ /i.test(t) && !t.includes(':');
}

export function apiTokenDetector(options: ApiTokenOptions = DEFAULT_API_TOKEN_OPTIONS): Detector {
  return {
    name: 'api_token',
    find(text: string, out: DetectorMatch[]): void {
      const before = out.length;
      scan(PREFIXED_BOUNDED, text, 'api_token', out, (m) => [m.index, m.index + m[0].length]);
      const skip = out.slice(before).map((p) => [p.start, p.end] as const);
      if (text.indexOf('-----BEGIN') >= 0) {
        PUBLIC_PEM.lastIndex = 0;
        for (let p = PUBLIC_PEM.exec(text); p !== null; p = PUBLIC_PEM.exec(text)) skip.push([p.index, p.index + p[0].length]);
      }
      scan(TOKEN, text, 'api_token', out, (m) => {
        const s = m[0];
        for (const [a, b] of skip) if (m.index < b && m.index + s.length > a) return undefined;
        return randomLooking(s.replace(/=+$/, ''), options, SECRET_CONTEXT.test(text.slice(Math.max(0, m.index - 24), m.index))) ? [m.index, m.index + s.length] : undefined;
      });
    },
  };
}
