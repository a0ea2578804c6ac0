/**
 * @module testing/fixtures
 * A funded buyer, an agent, a seller and a service, ready for paid calls in a test.
 */
import { randomUUID } from 'node:crypto';
import type { ServiceRef, CallRequest } from '../guard/types.ts';
import type { Tollgate } from '../tollgate.ts';
import type { CreateGrantInput } from '../grants/schemas.ts';

export interface Buyer {
  orgId: string;
  projectId: string;
  userId: string;
  agentId: string;
}

export async function seedBuyer(tg: Tollgate, options: { funds?: string; orgMonthly?: string; userMonthly?: string; projectMonthly?: string } = {}): Promise<Buyer> {
  const org = await tg.principals.createOrg({ name: 'Acme', monthlyLimit: options.orgMonthly ?? null });
  const project = await tg.principals.createProject({ orgId: org.id, name: 'Research', monthlyLimit: options.projectMonthly ?? null });
  const user = await tg.principals.createUser({ orgId: org.id, projectId: project.id, name: 'Ada', monthlyLimit: options.userMonthly ?? null });
  const agent = await tg.principals.createAgent({ userId: user.id, name: 'researcher', trustLevel: 1 });
  await tg.wallets.topUp({ ownerId: user.id, amount: options.funds ?? '100.00', reference: `seed-${randomUUID()}` });
  return { orgId: org.id, projectId: project.id, userId: user.id, agentId: agent.id };
}

export function testService(overrides: Partial<ServiceRef> = {}): ServiceRef {
  return { id: 'svc_search', slug: 'search', kind: 'http', sellerId: 'sel_demo', category: 'search', sensitivity: 'low', freeCallsPerMonth: 0, ...overrides };
}

export async function grantFor(tg: Tollgate, buyer: Buyer, input: Partial<CreateGrantInput> = {}): Promise<string> {
  const { token } = await tg.grants.create({ userId: buyer.userId, totalCap: '10.00', services: ['*'], ...input });
  return token;
}

/** A paid-call request with a fresh idempotency key; override any field. */
export function callRequest(token: string, overrides: Partial<CallRequest> = {}): CallRequest {
  const key = overrides.idempotencyKey ?? randomUUID();
  return {
    token,
    idempotencyKey: key,
    fingerprint: `GET /search ${key}`,
    service: testService(),
    tool: 'GET /search',
    priceMicros: 10_000n,
    pricing: 'fixed',
    edge: 'sdk',
    ...overrides,
  };
}
