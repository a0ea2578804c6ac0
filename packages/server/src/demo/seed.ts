/**
 * @module demo/seed
 * Seeds the demo on first start: an org, a user with a funded wallet, an agent, a seller's four
 * services on the loopback demo upstream, an admin API key and a grant token. Idempotent: the ids
 * are kept in the `settings` table, and a later start reuses them (only the upstream address, which
 * changes per start, is updated).
 *
 * Secrets are shown once by design, but a demo that forgets its token on restart is no demo. So in
 * demo mode the grant token and admin key are also written to files in the data folder's parent
 * (`.tollgate/demo-token`, `.tollgate/demo-admin-key`) with mode 0600, and the banner says so. A
 * revoked or deleted token is replaced by a new grant on the next start.
 */
import { mkdirSync, readFileSync, writeFileSync, chmodSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes, randomUUID } from 'node:crypto';
import type { ServiceRegistry, Tollgate } from '@tollgate/core';
import type { ApiKeys } from '../middleware/api-key/index.ts';
import { DEMO_CREDENTIAL_HEADER } from './upstreams.ts';
import { ensureDemoMcpService } from './mcp-upstream.ts';

export interface DemoState {
  orgId: string;
  userId: string;
  agentId: string;
  sellerId: string;
  /** The credential the demo upstream expects (stored as the services' credential too). */
  upstreamCredential: string;
}

export interface DemoInfo extends DemoState {
  token: string;
  adminKey: string;
  tokenFile: string;
  adminKeyFile: string;
  created: boolean;
}

export const DEMO_SERVICES = ['search', 'summarize', 'ticker', 'research'] as const;

async function readState(tg: Tollgate): Promise<DemoState | undefined> {
  const [row] = await tg.db.query<{ value: DemoState }>("SELECT value FROM settings WHERE key = 'demo'");
  return row?.value;
}

function demoServices(baseUrl: string, state: DemoState) {
  const credentials = { headers: { [DEMO_CREDENTIAL_HEADER]: state.upstreamCredential } };
  const common = { baseUrl, sellerId: state.sellerId, credentials };
  return [
    { slug: 'search', name: 'Demo web search', category: 'search', ...common, prices: [{ method: 'GET' as const, path: '/search', type: 'fixed' as const, price: '0.01' }, { method: 'POST' as const, path: '/echo', type: 'fixed' as const, price: '0.001' }] },
    { slug: 'summarize', name: 'Demo summarizer (per word)', category: 'llm', ...common, prices: [{ method: 'POST' as const, path: '/summarize', type: 'per_unit' as const, unitPrice: '0.0001', maxUnits: 2000, units: { from: 'json' as const, path: 'usage.units' } }] },
    { slug: 'ticker', name: 'Demo slow stream (SSE)', category: 'data', ...common, prices: [{ method: 'GET' as const, path: '/stream', type: 'fixed' as const, price: '0.02' }] },
    { slug: 'research', name: 'Demo deep research (expensive)', category: 'research', sensitivity: 'medium' as const, ...common, prices: [{ method: 'POST' as const, path: '/research', type: 'fixed' as const, price: '2.50' }] },
  ];
}

export async function seedDemo(options: { tg: Tollgate; services: ServiceRegistry; apiKeys: ApiKeys; upstreamUrl: string; dir: string }): Promise<DemoInfo> {
  const { tg, services, apiKeys, upstreamUrl, dir } = options;
  let state = await readState(tg);
  const created = !state;
  if (!state) {
    const org = await tg.principals.createOrg({ name: 'Demo Org' });
    const user = await tg.principals.createUser({ orgId: org.id, name: 'Ada Demo', email: 'ada@example.com' });
    const agent = await tg.principals.createAgent({ userId: user.id, name: 'research-agent', trustLevel: 1 });
    await tg.wallets.topUp({ ownerId: user.id, amount: '100.00', reference: `demo-seed-${user.id}` });
    state = { orgId: org.id, userId: user.id, agentId: agent.id, sellerId: 'sel_demo', upstreamCredential: `demo_${randomBytes(16).toString('hex')}` };
    for (const service of demoServices(upstreamUrl, state)) await services.create(service);
    await tg.db.query("INSERT INTO settings (key, value) VALUES ('demo', $1) ON CONFLICT (key) DO NOTHING", [JSON.stringify(state)]);
    state = (await readState(tg))!;
  } else {
    for (const slug of DEMO_SERVICES) await services.update(slug, { baseUrl: upstreamUrl }).catch(() => undefined);
  }
  await ensureDemoMcpService(services, state.sellerId);
  mkdirSync(dir, { recursive: true });
  const tokenFile = join(dir, 'demo-token');
  const adminKeyFile = join(dir, 'demo-admin-key');
  let token = readSecret(tokenFile);
  if (!token || !(await tg.grants.authenticate(token).then(() => true, () => false))) {
    const grant = await tg.grants.create({
      userId: state.userId,
      agentId: state.agentId,
      totalCap: '10.00',
      services: ['*'],
      // Anything above a dollar needs a person: the `research` service shows an approval.
      reapproval: { priceAbove: '1.00' },
      tag: 'demo',
      mode: 'test',
    });
    token = grant.token;
    writeSecret(tokenFile, token);
  }
  let adminKey = readSecret(adminKeyFile);
  if (!adminKey || !(await apiKeys.authenticate(adminKey))) {
    adminKey = (await apiKeys.create({ name: 'demo admin', role: 'admin', mode: 'test' })).secret;
    writeSecret(adminKeyFile, adminKey);
  }
  return { ...state, token, adminKey, tokenFile, adminKeyFile, created };
}

function readSecret(file: string): string | undefined {
  try {
    return readFileSync(file, 'utf8').trim() || undefined;
  } catch {
    return undefined;
  }
}

function writeSecret(file: string, secret: string): void {
  writeFileSync(file, `${secret}\n`, { mode: 0o600 });
  chmodSync(file, 0o600);
}

/** A reference unique to this seeding, for idempotent top-ups in scripts. */
export function demoReference(): string {
  return `demo-${randomUUID()}`;
}
