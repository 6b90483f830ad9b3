import type { Detector, DetectorMatch } from './detector.js';
import { cardDetector } from './card.js';
import { ssnDetector } from './ssn.js';
import { emailDetector } from './email.js';
import { phoneDetector } from './phone.js';
import { ibanDetector } from './iban.js';
import { ipDetector } from './ip.js';
import { awsKeyDetector } from './aws-key.js';
import { privateKeyDetector } from './private-key.js';
import { jwtDetector } from './jwt.js';
import { apiTokenDetector, type ApiTokenOptions, DEFAULT_API_TOKEN_OPTIONS } from './api-token.js';

export const BUILTIN_DETECTORS = ['card', 'ssn', 'email', 'phone', 'iban', 'ip', 'aws_key', 'private_key', 'jwt', 'api_token'] as const;
export type BuiltinDetectorName = (typeof BUILTIN_DETECTORS)[number];

export function builtinDetector(name: BuiltinDetectorName, apiToken: ApiTokenOptions = DEFAULT_API_TOKEN_OPTIONS): Detector {
  switch (name) {
    case 'card':
      return cardDetector;
    case 'ssn':
      return ssnDetector;
    case 'email':
      return emailDetector;
    case 'phone':
      return phoneDetector;
    case 'iban':
      return ibanDetector;
    case 'ip':
      return ipDetector;
    case 'aws_key':
      return awsKeyDetector;
    case 'private_key':
      return privateKeyDetector;
    case 'jwt':
      return jwtDetector;
    case 'api_token':
      return apiTokenDetector(apiToken);
  }
}

/**
 * Every match of every detector in `text`, sorted and with overlaps merged into one range
 * (labelled by the detector that started first), so replacements never interleave. A private
 * key also holds base64 runs the token detector likes; merging masks the key once, whole.
 */
export function findAll(text: string, detectors: readonly Detector[]): DetectorMatch[] {
  const raw: DetectorMatch[] = [];
  for (const d of detectors) {
    try {
      d.find(text, raw);
    } catch {
      // A detector bug must not let the value through unmasked: treat the whole text as a hit.
      return [{ start: 0, end: text.length, detector: d.name }];
    }
  }
  if (raw.length <= 1) return raw;
  raw.sort((a, b) => a.start - b.start || b.end - a.end);
  const out: DetectorMatch[] = [raw[0]!];
  for (let i = 1; i < raw.length; i++) {
    const m = raw[i]!;
    const last = out[out.length - 1]!;
    if (m.start < last.end) {
      if (m.end > last.end) last.end = m.end;
    } else out.push(m);
  }
  return out;
}
