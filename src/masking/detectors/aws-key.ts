import { scan, type Detector, type DetectorMatch } from './detector.js';

/**
 * AWS credentials. Access key ids carry a fixed four-letter prefix (AKIA long-term, ASIA
 * temporary, and the other unique-id prefixes) and 16 base32 characters. A secret access key
 * is 40 base64 characters with nothing distinctive about it, so one counts only when the text
 * also holds a key id or names the secret (`aws_secret_access_key`, `SecretAccessKey`, …).
 * https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_identifiers.html#identifiers-unique-ids
 */
const KEY_ID = /(?<![A-Za-z0-9])(?:AKIA|ASIA|ABIA|ACCA|AGPA|AIDA|AIPA|ANPA|ANVA|AROA|APKA|ASCA)[A-Z2-7]{16}(?![A-Za-z0-9])/g;
const SECRET = /(?<![A-Za-z0-9/+=])[A-Za-z0-9/+]{40}(?![A-Za-z0-9/+=])/g;
const SECRET_CONTEXT = /aws.{0,20}secret|secret.?access.?key|aws_session_token|secretkey/i;

export const awsKeyDetector: Detector = {
  name: 'aws_key',
  find(text: string, out: DetectorMatch[]): void {
    const before = out.length;
    scan(KEY_ID, text, 'aws_key', out, (m) => [m.index, m.index + m[0].length]);
    const haveKeyId = out.length > before;
    if (!haveKeyId && !SECRET_CONTEXT.test(text)) return;
    scan(SECRET, text, 'aws_key', out, (m) => {
      const s = m[0];
      // Real secrets mix cases and digits; a 40-char hex digest or a word run does not.
      if (!/[a-z]/.test(s) || !/[A-Z]/.test(s) || !/\d/.test(s) || /^[0-9a-fA-F]+$/.test(s)) return undefined;
      return [m.index, m.index + s.length];
    });
  },
};
