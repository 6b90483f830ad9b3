import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { inspect } from 'node:util';
import { parseConnectionUrl, redactUrl } from '../../src/connectors/postgres/connection-url.js';
import { Secret } from '../../src/config/secret.js';
import { PortcullisError } from '../../src/errors/portcullis-error.js';

describe('parseConnectionUrl', () => {
  it('parses every part and percent-decodes', () => {
    const u = parseConnectionUrl('postgres://app%40corp:s%3Acr%2Fet%40@db.internal:6432/my%20db?sslmode=verify-ca&sslrootcert=/etc/ca.pem');
    assert.equal(u.host, 'db.internal');
    assert.equal(u.port, 6432);
    assert.equal(u.user, 'app@corp');
    assert.equal(u.database, 'my db');
    assert.equal(u.password?.reveal(), 's:cr/et@');
    assert.equal(u.password?.source, 'url');
    assert.equal(u.sslmode, 'verify-ca');
    assert.equal(u.sslrootcert, '/etc/ca.pem');
    assert.ok(!inspect(u).includes('s:cr/et@'), 'the password prints redacted');
    assert.ok(!JSON.stringify(u).includes('s:cr/et@'));
  });

  it('defaults port to 5432 and database to the user; accepts postgresql:// and IPv6', () => {
    const u = parseConnectionUrl('postgresql://alice@[::1]');
    assert.deepEqual({ ...u }, { host: '::1', port: 5432, user: 'alice', database: 'alice' });
  });

  it("lets the connection's password field win over the URL's", () => {
    const u = parseConnectionUrl('postgres://a:fromurl@h/d', new Secret('fromconfig', 'env:PW'));
    assert.equal(u.password?.reveal(), 'fromconfig');
  });

  it('refuses what it cannot honour, without printing the password', () => {
    const cases: Array<[string, RegExp]> = [
      ['mysql://a:hunter22@h/d', /postgres:\/\//],
      ['postgres://:hunter22@h/d', /no user name/],
      ['postgres://a:hunter22@h:99999/d', /port|valid URL/],
      ['postgres://a:hunter22@h/d?sslmode=prefer', /sslmode 'prefer'/],
      ['postgres://a:hunter22@h/d?options=-csearch_path%3Devil', /unsupported parameter 'options'/],
      ['postgres://a:hunter22@h/d/e', /database name/],
      ['postgres://a:hunter22@/d', /no host|valid URL/],
      ['postgres://a:hunter22@h/%E0%A4%A', /percent-encoding/],
    ];
    for (const [url, pattern] of cases) {
      assert.throws(
        () => parseConnectionUrl(url),
        (e: unknown) => e instanceof PortcullisError && e.code === 'ERR_CONFIG_INVALID' && pattern.test(e.message) && !e.message.includes('hunter22'),
        url,
      );
    }
  });
});

describe('redactUrl', () => {
  it('replaces the password and nothing else', () => {
    assert.equal(redactUrl('postgres://app:s3cret@db:5432/x?sslmode=require'), 'postgres://app:***@db:5432/x?sslmode=require');
    assert.equal(redactUrl('postgres://app@db/x'), 'postgres://app@db/x');
    assert.equal(redactUrl('postgres://db/x'), 'postgres://db/x');
    assert.equal(redactUrl('not a url'), 'not a url');
  });

  it('redacts secrets given as query parameters, which libpq accepts', () => {
    assert.equal(redactUrl('postgres://app@db/x?sslmode=require&password=s3cret'), 'postgres://app@db/x?sslmode=require&password=***');
    assert.equal(redactUrl('postgres://db/x?sslpassword=k3y&PGPASSWORD=p&sslmode=verify-full'), 'postgres://db/x?sslpassword=***&PGPASSWORD=***&sslmode=verify-full');
    assert.equal(redactUrl('postgres://u:pw@db/x?api_token=t#frag'), 'postgres://u:***@db/x?api_token=***#frag');
    assert.equal(redactUrl("host=db password='a b\\'c' user=u"), 'host=db password=*** user=u');
    assert.equal(redactUrl('host=db password = s3cret dbname=x'), 'host=db password=*** dbname=x');
  });

  it('redacts raw @ and / inside a password (over-redacting rather than leaking)', () => {
    const r = redactUrl('postgres://app:p@ss/w@rd@db/x');
    assert.equal(r, 'postgres://app:***@db/x');
  });
});
