/**
 * The MPP edge's configuration from the environment and its offer rule (which services and routes
 * take MPP, at what price). No chain is needed: nothing here reaches it.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { TollgateError, type Service, type Tollgate } from '@tollgate/core';
import { createMppEdge, mppConfigFromEnv } from './mpp.ts';

const KEY = `0x${'11'.repeat(32)}`;
const TOKEN = `0x${'22'.repeat(20)}`;

describe('MPP configuration', () => {
  test('off without a secret key; the RPC URL falls back to TOLLGATE_CHAIN_RPC_URL; defaults filled in', () => {
    assert.equal(mppConfigFromEnv({}), undefined);
    const config = mppConfigFromEnv({
      TOLLGATE_MPP_SECRET_KEY: 's'.repeat(40), TOLLGATE_CHAIN_RPC_URL: 'http://127.0.0.1:8545', TOLLGATE_MPP_CHAIN_ID: '31337',
      TOLLGATE_MPP_PRIVATE_KEY: KEY, TOLLGATE_MPP_TOKEN_ADDRESS: TOKEN,
    });
    assert.equal(config?.rpcUrl, 'http://127.0.0.1:8545');
    assert.equal(config?.chainId, 31337);
    assert.equal(config?.tokenName, 'USD Coin');
    assert.equal(config?.challengeTtlSeconds, 300);
    assert.equal(config?.escrowAddress, undefined);
  });

  test('every problem is reported at once, naming the variable', () => {
    assert.throws(() => mppConfigFromEnv({ TOLLGATE_MPP_SECRET_KEY: 'short', TOLLGATE_MPP_PRIVATE_KEY: '0x12' }), (error: unknown) => {
      assert.ok(error instanceof TollgateError);
      const issues = error.data.issues as string[];
      for (const name of ['TOLLGATE_MPP_SECRET_KEY', 'TOLLGATE_MPP_PRIVATE_KEY', 'TOLLGATE_MPP_RPC_URL', 'TOLLGATE_MPP_CHAIN_ID', 'TOLLGATE_MPP_TOKEN_ADDRESS']) {
        assert.ok(issues.some((i) => i.startsWith(name)), `${name} is named`);
      }
      return true;
    });
  });
});

describe('MPP offers', () => {
  const chain = {
    chainId: 31337,
    publicClient: {} as never,
    walletClient: { account: { address: `0x${'33'.repeat(20)}` } } as never,
    token: { address: TOKEN as `0x${string}`, name: 'USD Coin', version: '2', decimals: 6 },
  };
  const edge = createMppEdge({ tg: { db: {} } as unknown as Tollgate, chain, secretKey: 's'.repeat(40), realm: 'test' });
  const service = (metadata: Record<string, unknown>, overrides: Partial<Service> = {}): Service => ({
    id: 'svc_1', slug: 'search', kind: 'http', name: 'Search', baseUrl: 'http://x', mcp: null, sellerId: 'sel_1', category: 'general',
    sensitivity: 'low', freeCallsPerMonth: 0, chargeFailedCalls: false, timeoutMs: 1000, credentialHeaders: [], metadata, disabled: false,
    createdAt: new Date(), updatedAt: new Date(),
    prices: [
      { method: 'POST', path: '/tokens', type: 'per_unit', unitPrice: '0.001', maxUnits: 10, units: { from: 'header', name: 'x-units' } },
      { method: '*', path: '/**', type: 'fixed', price: '0.02' },
    ],
    ...overrides,
  });

  test('only services whose metadata says so, only fixed-price routes, only intents the server has', () => {
    assert.deepEqual(edge.intents, ['charge'], 'no escrow configured: charge only');
    const offer = edge.offerFor(service({ mpp: true }), 'GET', '/q', 'http');
    assert.equal(offer?.amountMicros, 20_000n);
    assert.deepEqual(offer?.intents, ['charge']);
    assert.equal(offer?.resource, 'search GET /q');
    assert.equal(edge.offerFor(service({ mpp: { intents: ['session'] } }), 'GET', '/q', 'http'), undefined, 'session needs an escrow');
    assert.equal(edge.offerFor(service({}), 'GET', '/q', 'http'), undefined);
    assert.equal(edge.offerFor(service({ mpp: 'yes' }), 'GET', '/q', 'http'), undefined);
    assert.equal(edge.offerFor(service({ mpp: true }), 'POST', '/tokens', 'http'), undefined, 'usage-priced routes cannot be charged up front');
    assert.equal(edge.offerFor(service({ mpp: true }, { disabled: true }), 'GET', '/q', 'http'), undefined);
    assert.equal(edge.offerFor(service({ mpp: true }, { kind: 'mcp' }), 'POST', '/echo', 'mcp')?.tool, 'echo');
  });
});
