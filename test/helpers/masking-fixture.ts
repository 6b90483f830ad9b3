/**
 * The customers fixture the masking end-to-end suites attack: three people whose email, SSN and
 * card number are masked by rules, a view renaming them, free text holding PII for the
 * detectors, and a SQL function that passes a value through. `RAW` lists every spelling of a
 * sensitive value a leak would show; the suites search every byte a client received for each.
 */
import type { PgCluster } from './pg-cluster.js';
import { startTestGateway, type TestGateway } from './gateway.js';

export const PEOPLE = [
  { id: 1, name: 'Alice Archer', email: 'alice.archer@example.com', ssn: '123-45-6789', card: '4111111111111111' },
  { id: 2, name: 'Bob Baker', email: 'bob.baker@example.org', ssn: '234-56-7890', card: '5555555555554444' },
  { id: 3, name: 'Carol Chen', email: 'carol.chen@example.net', ssn: '345-67-8901', card: '4242424242424242' },
];

export const RAW = PEOPLE.flatMap((p) => [p.email, p.ssn, p.card, p.ssn.replaceAll('-', ''), p.email.toUpperCase()]);

export async function createCustomers(db: PgCluster): Promise<void> {
  await db.exec(`
    CREATE TABLE customers (id int PRIMARY KEY, name text, email text UNIQUE, ssn text, card text, notes text);
    ${PEOPLE.map((p) => `INSERT INTO customers VALUES (${p.id}, '${p.name}', '${p.email}', '${p.ssn}', '${p.card}', 'vip');`).join('\n')}
    CREATE VIEW customer_view AS SELECT id, name, email AS contact, ssn AS tax_id FROM customers;
    CREATE TABLE tickets (id int, body text);
    INSERT INTO tickets VALUES (1, 'customer wrote from alice.archer@example.com about card 4111 1111 1111 1111');
    CREATE FUNCTION leak(t text) RETURNS text LANGUAGE sql AS $$ SELECT t $$;
  `);
}

/**
 * An audit-only gateway masking ssn (partial), email (hash) and card (redact), with three
 * detectors; `columns` adds rules after those.
 */
export function startMaskingGateway(db: PgCluster, o: { http?: boolean; columns?: readonly Record<string, unknown>[] } = {}): Promise<TestGateway> {
  return startTestGateway(db, {
    ...(o.http ? { http: true } : {}),
    policy: { preset: 'audit-only' },
    extra: {
      masking: {
        hash_key: 'test-hash-key-0123456789',
        detectors: ['card', 'ssn', 'email'],
        columns: [
          { match: 'public.customers.ssn', strategy: 'partial', keep_last: 4 },
          { match: 'public.customers.email', strategy: 'hash' },
          { match: 'public.customers.card', strategy: 'redact' },
          ...(o.columns ?? []),
        ],
      },
    },
  });
}
