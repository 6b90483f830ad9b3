import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildDemoData, DEMO_SEED } from '../../src/connectors/embedded/demo-data.js';
import { DemoRandom, ssn, withLuhnDigit, cardNumber, groupCard } from '../../src/connectors/embedded/demo-values.js';

/** An independent Luhn check, so the generator is not tested against itself. */
function luhnValid(pan: string): boolean {
  let sum = 0;
  for (let i = 0; i < pan.length; i++) {
    let d = Number(pan[pan.length - 1 - i]);
    if (i % 2 === 1) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
  }
  return pan.length >= 12 && sum % 10 === 0;
}

const SSN_FORMAT = /^(?!000|666|9\d\d)\d{3}-(?!00)\d{2}-(?!0000)\d{4}$/;

test('the Luhn check digit matches published test card numbers', () => {
  assert.equal(withLuhnDigit('411111111111111'), '4111111111111111');
  assert.equal(withLuhnDigit('555555555555444'), '5555555555554444');
  assert.equal(withLuhnDigit('37828224631000'), '378282246310005');
  assert.equal(withLuhnDigit('601111111111111'), '6011111111111117');
});

test('generated card numbers and SSNs are valid over many draws', () => {
  const r = new DemoRandom(7);
  for (let i = 0; i < 5000; i++) {
    const pan = cardNumber(r);
    assert.ok(luhnValid(pan), pan);
    assert.match(pan, /^(4|5|2|3[47]|6)\d+$/);
    assert.equal(pan.length, pan.startsWith('3') ? 15 : 16);
    assert.match(ssn(r), SSN_FORMAT);
  }
  assert.equal(groupCard('378282246310005', ' '), '3782 822463 10005');
  assert.equal(groupCard('4111111111111111', '-'), '4111-1111-1111-1111');
});

test('the demo data is deterministic per seed and the sizes the brief asks for', () => {
  const a = buildDemoData();
  const b = buildDemoData(DEMO_SEED);
  assert.equal(a.sql, b.sql);
  assert.notEqual(buildDemoData(1).sql, a.sql);
  assert.equal(a.counts.customers, 500);
  assert.equal(a.counts.orders, 2000);
  assert.equal(a.counts.employees, 100);
  assert.ok(a.counts.payments >= 1800 && a.counts.payments <= 2200, String(a.counts.payments));
  assert.ok(a.counts.order_items > a.counts.orders);
  assert.equal(a.ticketPii.size, a.counts.support_tickets);
  const kinds = new Map<string, number>();
  for (const ks of a.ticketPii.values()) for (const k of ks) kinds.set(k, (kinds.get(k) ?? 0) + 1);
  for (const k of ['email', 'phone', 'card_number', 'ssn']) assert.ok((kinds.get(k) ?? 0) >= 10, `${k}: ${kinds.get(k)}`);
  const clean = [...a.ticketPii.values()].filter((ks) => ks.length === 0).length;
  assert.ok(clean > a.counts.support_tickets / 3, 'most tickets carry no personal data');
});
