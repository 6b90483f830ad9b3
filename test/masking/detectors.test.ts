import { test } from 'node:test';
import assert from 'node:assert/strict';
import { builtinDetector, findAll, type BuiltinDetectorName } from '../../src/masking/detectors/registry.js';
import { customRegexDetector } from '../../src/masking/detectors/custom-regex.js';
import type { DetectorMatch } from '../../src/masking/detectors/detector.js';

function found(name: BuiltinDetectorName, text: string): string[] {
  const out: DetectorMatch[] = [];
  builtinDetector(name).find(text, out);
  return out.map((m) => text.slice(m.start, m.end));
}

test('cards: Luhn, issuer prefixes and grouping', () => {
  assert.deepEqual(found('card', 'pay 4111 1111 1111 1111 now'), ['4111 1111 1111 1111']);
  assert.deepEqual(found('card', '4111 1111 1111 1112'), []); // Luhn fails
  assert.deepEqual(found('card', '1234567812345670'), []); // Luhn passes, no issuer starts with 1
  assert.deepEqual(found('card', '4111-1111 1111-1111'), []); // mixed separators
  assert.deepEqual(found('card', 'amount 4111111111111111.50'), []);
});

test('SSNs: invalid areas, groups and serials; bare digits only in context', () => {
  assert.deepEqual(found('ssn', 'id 123-45-6789'), ['123-45-6789']);
  for (const bad of ['000-12-3456', '666-12-3456', '900-12-3456', '123-00-4567', '123-45-0000']) assert.deepEqual(found('ssn', bad), [], bad);
  assert.deepEqual(found('ssn', 'invoice 123456789'), []);
  assert.deepEqual(found('ssn', 'SSN: 123456789'), ['123456789']);
});

test('emails, phones, IBANs, IPs', () => {
  assert.deepEqual(found('email', 'Key (email)=(alice@example.com) already exists.'), ['alice@example.com']);
  assert.deepEqual(found('email', 'left-pad@1.3.0 user@localhost'), []);
  assert.deepEqual(found('phone', 'call +1 415 555 2671 or (415) 555-2671'), ['+1 415 555 2671', '(415) 555-2671']);
  assert.deepEqual(found('phone', 'on 2024-01-15 paid 1,234,567.89 for order 20240115'), []);
  assert.deepEqual(found('iban', 'to GB82 WEST 1234 5698 7654 32 today'), ['GB82 WEST 1234 5698 7654 32']);
  assert.deepEqual(found('iban', 'GB82WEST12345698765433'), []); // mod-97 fails
  assert.deepEqual(found('ip', 'from 10.0.0.1 and 2001:db8::1 (version 1.2.3.4)'), ['2001:db8::1', '10.0.0.1']);
});

test('secrets: AWS, PEM, JWT, API tokens', () => {
  assert.deepEqual(found('aws_key', 'AKIAIOSFODNN7EXAMPLE wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY'), ['AKIAIOSFODNN7EXAMPLE', 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY']);
  assert.deepEqual(found('aws_key', 'sha1 da39a3ee5e6b4b0d3255bfef95601890afd80709'), []);
  assert.equal(found('private_key', 'x -----BEGIN RSA PRIVATE KEY-----\nabc\n-----END RSA PRIVATE KEY----- y')[0], '-----BEGIN RSA PRIVATE KEY-----\nabc\n-----END RSA PRIVATE KEY-----');
  assert.deepEqual(found('jwt', 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.sig_nature'), ['eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.sig_nature']);
  assert.deepEqual(found('api_token', 'ghp_16C7e42F292c6912E7710c838347Ae178B4a and 550e8400-e29b-41d4-a716-446655440000'), ['ghp_16C7e42F292c6912E7710c838347Ae178B4a']);
});

test('custom regex detectors narrow to the `value` group; overlapping hits merge', () => {
  const d = customRegexDetector('employee', 'employee id:? (?<value>E\\d{6})', 'i');
  const out: DetectorMatch[] = [];
  d.find('Employee ID: E123456', out);
  assert.deepEqual(out.map((m) => [m.start, m.end]), [[13, 20]]);
  const merged = findAll('-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcw\n-----END PRIVATE KEY-----', [builtinDetector('private_key'), builtinDetector('api_token')]);
  assert.equal(merged.length, 1);
});

test('detectors never throw on hostile input', () => {
  const samples = ['', '\u0000'.repeat(50), '-----BEGIN '.repeat(500), '@'.repeat(5000), '1-'.repeat(5000), ':'.repeat(3000), 'eyJ.'.repeat(1000), '\uD800abc'];
  for (const s of samples) assert.doesNotThrow(() => findAll(s, ['card', 'ssn', 'email', 'phone', 'iban', 'ip', 'aws_key', 'private_key', 'jwt', 'api_token'].map((n) => builtinDetector(n as BuiltinDetectorName))));
});
