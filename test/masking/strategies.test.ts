import { test } from 'node:test';
import assert from 'node:assert/strict';
import { StrategyApplier, partial, stricter } from '../../src/masking/strategy.js';
import { luhnValid } from '../../src/masking/detectors/card.js';
import { createHmac } from 'node:crypto';

const a = new StrategyApplier('test-key');

test('partial keeps the last or first N and the separators', () => {
  assert.equal(partial('123-45-6789', undefined, 4), '***-**-6789');
  assert.equal(partial('4242-4242-4242-4242', undefined, 4), '****-****-****-4242');
  assert.equal(partial('john@example.com', undefined, undefined), 'j***@example.com');
  assert.equal(partial('john@example.com', 2, undefined), 'jo***@example.com');
  assert.equal(partial('4111111111111111', 6, 4), '411111******1111');
  // A short value never shows itself whole.
  assert.equal(partial('1234', undefined, 4), '****');
  assert.equal(partial('ab', undefined, 4), '**');
});

test('redact, null and clear', () => {
  assert.equal(a.apply({ strategy: 'redact' }, 'x'), '****');
  assert.equal(a.apply({ strategy: 'redact', replacement: '[hidden]' }, 'x'), '[hidden]');
  assert.equal(a.apply({ strategy: 'null' }, 'x'), null);
  assert.equal(a.apply({ strategy: 'clear' }, 'x'), 'x');
});

test('hash is keyed and deterministic, so joins and GROUP BY still work', () => {
  const h1 = a.apply({ strategy: 'hash' }, 'alice@example.com');
  assert.equal(h1, a.apply({ strategy: 'hash' }, 'alice@example.com'));
  assert.notEqual(h1, a.apply({ strategy: 'hash' }, 'bob@example.com'));
  assert.notEqual(h1, new StrategyApplier('other-key').apply({ strategy: 'hash' }, 'alice@example.com'));
  assert.match(h1!, /^h_[A-Za-z0-9_-]{22}$/);
  const ref = createHmac('sha256', 'test-key').update('hash\0alice@example.com').digest('base64url').slice(0, 22);
  assert.equal(h1, `h_${ref}`);
  assert.throws(() => new StrategyApplier(undefined).apply({ strategy: 'hash' }, 'x'), TypeError);
});

test('fake keeps the shape, is deterministic, and keeps card numbers Luhn-valid', () => {
  const f = a.apply({ strategy: 'fake' }, '123-45-6789')!;
  assert.match(f, /^\d{3}-\d{2}-\d{4}$/);
  assert.equal(f, a.apply({ strategy: 'fake' }, '123-45-6789'));
  assert.notEqual(f, '123-45-6789');
  const card = a.apply({ strategy: 'fake' }, '4242 4242 4242 4242')!;
  assert.match(card, /^\d{4} \d{4} \d{4} \d{4}$/);
  assert.ok(luhnValid(card.replace(/ /g, '')));
  assert.match(a.apply({ strategy: 'fake' }, 'Alice.Smith@corp.io')!, /^[A-Z][a-z]{4}\.[A-Z][a-z]{4}@example\.com$/);
});

test('the most restrictive of two presentations wins', () => {
  assert.equal(stricter({ strategy: 'partial', keepLast: 4 }, { strategy: 'redact' }).strategy, 'redact');
  assert.equal(stricter({ strategy: 'clear' }, { strategy: 'hash' }).strategy, 'hash');
  assert.equal(stricter({ strategy: 'partial', keepLast: 4 }, { strategy: 'partial', keepLast: 2 }).keepLast, 2);
});

test('partial on wire bytes equals partial on strings for ASCII values, and defers otherwise', async () => {
  const { partial, partialBytes } = await import('../../src/masking/strategy.js');
  const cases: [string, number | undefined, number | undefined][] = [
    ['123-45-6789', undefined, 4],
    ['4111 1111 1111 1111', undefined, 4],
    ['4111111111111111', 2, 4],
    ['+1 (555) 010-9999', undefined, 2],
    ['ab', undefined, 4],
    ['', undefined, 4],
    ['x-y-z', 1, undefined],
  ];
  for (const [v, kf, kl] of cases) {
    const b = Buffer.from(`##${v}##`);
    assert.equal(partialBytes(b, 2, Buffer.byteLength(v), kf, kl)?.toString('latin1'), partial(v, kf, kl), v);
  }
  assert.equal(partialBytes(Buffer.from('jürgen-1234'), 0, 12, undefined, 4), undefined);
  assert.equal(partialBytes(Buffer.from('a@example.com'), 0, 13, undefined, undefined), undefined);
});
