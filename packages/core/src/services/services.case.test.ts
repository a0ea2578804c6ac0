import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { testDatabases } from '../testing/databases.ts';
import { TollgateError } from '../errors.ts';
import { checkUpstreamUrl, classifyAddress, pathMatches, quote, ServiceRegistry, usageChargeMicros, type CreateServiceInput } from './index.ts';

describe('upstream address classes', () => {
  for (const [address, kind] of [
    ['127.0.0.1', 'loopback'], ['127.9.9.9', 'loopback'], ['::1', 'loopback'], ['::ffff:127.0.0.1', 'loopback'], ['::ffff:7f00:1', 'loopback'],
    ['10.1.2.3', 'private'], ['172.20.0.1', 'private'], ['192.168.1.1', 'private'], ['100.64.0.1', 'private'], ['fd00::1', 'private'],
    ['169.254.169.254', 'link_local'], ['fe80::1', 'link_local'], ['::ffff:169.254.169.254', 'link_local'], ['64:ff9b::a9fe:a9fe', 'link_local'],
    ['2002:7f00:1::', 'loopback'], ['0.0.0.0', 'reserved'], ['::', 'reserved'], ['224.0.0.1', 'reserved'], ['ff02::1', 'reserved'],
    ['8.8.8.8', 'public'], ['2606:4700::1111', 'public'], ['::ffff:8.8.8.8', 'public'],
  ] as const) {
    test(`${address} is ${kind}`, () => assert.equal(classifyAddress(address), kind));
  }

  test('refuses private names and literals unless allowed', async () => {
    const lookup = async (host: string) => (host === 'internal.example' ? ['10.0.0.5'] : host === 'both.example' ? ['8.8.8.8', '::1'] : ['93.184.216.34']);
    for (const url of ['http://127.0.0.1:8080', 'http://[::1]/', 'http://[::ffff:127.0.0.1]/', 'http://169.254.169.254/latest', 'http://internal.example/', 'http://both.example/', 'http://0.0.0.0/']) {
      await assert.rejects(checkUpstreamUrl(url, {}, { lookup }), (e: unknown) => e instanceof TollgateError && e.code === 'invalid_request' && e.data.field === 'baseUrl', url);
    }
    await assert.rejects(checkUpstreamUrl('ftp://example.com', {}, { lookup }));
    await assert.rejects(checkUpstreamUrl('http://user:pw@example.com', {}, { lookup }));
    assert.deepEqual(await checkUpstreamUrl('https://api.example/', {}, { lookup }), ['93.184.216.34']);
    assert.deepEqual(await checkUpstreamUrl('http://127.0.0.1:1/', { allowLoopback: true }, { lookup }), ['127.0.0.1']);
    await assert.rejects(checkUpstreamUrl('http://10.0.0.1/', { allowLoopback: true }, { lookup }));
    assert.ok(await checkUpstreamUrl('http://10.0.0.1/', { allowPrivate: true }, { lookup }));
    assert.ok(await checkUpstreamUrl('http://internal.example/', { allowHosts: ['internal.example'] }, { lookup }));
  });
});

describe('price rules', () => {
  test('path patterns', () => {
    assert.ok(pathMatches('/search', '/search'));
    assert.ok(!pathMatches('/search', '/search/x'));
    assert.ok(pathMatches('/v1/*/items', '/v1/abc/items'));
    assert.ok(!pathMatches('/v1/*/items', '/v1/a/b/items'));
    assert.ok(pathMatches('/v1/**', '/v1'));
    assert.ok(pathMatches('/v1/**', '/v1/a/b'));
    assert.ok(!pathMatches('/v1/**', '/v10'));
    assert.ok(pathMatches('/**', '/anything/at/all'));
    assert.ok(pathMatches('/a.b', '/a.b') && !pathMatches('/a.b', '/aXb'));
  });

  test('first matching rule prices the call; usage holds the maximum', () => {
    const prices = [
      { method: 'POST', path: '/report', type: 'per_unit', unitPrice: '0.001', maxUnits: 500, units: { from: 'header', name: 'x-units' } },
      { method: 'GET', path: '/search', type: 'fixed', price: '0.01' },
      { method: '*', path: '/**', type: 'fixed', price: '0.05' },
    ] as const;
    const usage = quote({ prices: prices as never }, 'post', '/report')!;
    assert.equal(usage.pricing, 'usage');
    assert.equal(usage.holdMicros, 500_000n);
    assert.equal(usageChargeMicros(usage, 120n), 120_000n);
    assert.equal(usageChargeMicros(usage, 9_999n), 500_000n);
    assert.equal(usageChargeMicros(usage, undefined), 0n);
    assert.equal(quote({ prices: prices as never }, 'GET', '/search')!.holdMicros, 10_000n);
    assert.equal(quote({ prices: prices as never }, 'DELETE', '/x')!.holdMicros, 50_000n);
    assert.equal(quote({ prices: [prices[1]] as never }, 'GET', '/other'), undefined);
  });
});

const input = (overrides: Partial<CreateServiceInput> = {}): CreateServiceInput => ({
  slug: 'search',
  baseUrl: 'http://127.0.0.1:9/',
  sellerId: 'sel_demo',
  prices: [{ type: 'fixed', price: '0.01' }],
  credentials: { headers: { Authorization: 'Bearer sk-upstream-secret' } },
  ...overrides,
});

for (const engine of testDatabases) {
  describe(`service registry on ${engine.kind}`, { skip: engine.skip }, () => {
    test('create, get, list, update, resolve; credentials only through resolve', async () => {
      const db = await engine.open();
      try {
        const registry = new ServiceRegistry({ db, upstreams: { allowLoopback: true } });
        const created = await registry.create(input());
        assert.match(created.id, /^svc_/);
        assert.equal(created.baseUrl, 'http://127.0.0.1:9');
        assert.deepEqual(created.credentialHeaders, ['Authorization']);
        assert.ok(!JSON.stringify(created).includes('sk-upstream-secret'));
        assert.ok(!JSON.stringify(await registry.list()).includes('sk-upstream-secret'));
        await assert.rejects(registry.create(input()), (e: unknown) => e instanceof TollgateError && e.code === 'conflict');
        const resolved = await registry.resolve('search');
        assert.equal(resolved.credentialHeaders.Authorization, 'Bearer sk-upstream-secret');
        assert.deepEqual(resolved.ref, { id: created.id, slug: 'search', kind: 'http', sellerId: 'sel_demo', category: 'general', sensitivity: 'low', freeCallsPerMonth: 0 });
        const updated = await registry.update('search', { category: 'web', disabled: true });
        assert.equal(updated.category, 'web');
        await assert.rejects(registry.resolve('search'), (e: unknown) => e instanceof TollgateError && e.code === 'not_found');
        let address = '93.184.216.34';
        const rebinding = new ServiceRegistry({ db, lookup: async () => [address], cacheTtlMs: 0 });
        await rebinding.create(input({ slug: 'named', baseUrl: 'http://api.example.test/' }));
        assert.equal((await rebinding.resolve('named')).service.slug, 'named');
        address = '127.0.0.1';
        await assert.rejects(rebinding.resolve('named'), (e: unknown) => e instanceof TollgateError && e.code === 'upstream_failed' && e.data.reason === 'upstream_address_refused');
        // An MCP upstream's URL is checked again before every connection too, not only at registration.
        address = '93.184.216.34';
        await rebinding.create(input({ slug: 'named-mcp', kind: 'mcp', baseUrl: undefined, mcp: { url: 'http://mcp.example.test/mcp' } }));
        assert.equal((await rebinding.resolve('named-mcp')).service.kind, 'mcp');
        address = '10.0.0.7';
        await assert.rejects(rebinding.resolve('named-mcp'), (e: unknown) => e instanceof TollgateError && e.code === 'upstream_failed' && e.data.reason === 'upstream_address_refused');
        await assert.rejects(registry.create(input({ slug: 'meta', baseUrl: 'http://169.254.169.254/' })), (e: unknown) => e instanceof TollgateError && e.data.field === 'baseUrl');
        await assert.rejects(registry.create(input({ slug: 'Bad Slug' })), (e: unknown) => e instanceof TollgateError && e.data.field === 'slug');
        await assert.rejects(registry.create(input({ slug: 'huge', prices: [{ type: 'per_unit', unitPrice: '1000', maxUnits: 1_000_000_000, units: { from: 'header', name: 'x-u' } }] })), /maxUnits/);
      } finally {
        await db.close();
      }
    });
  });
}
