/**
 * @module provider-api/routes
 * `/v1/provider/…`: what a seller's own server (through `@tollgate/provider`) calls to charge per
 * call, the per-user API keys buyers give to a seller's MCP server, and payouts.
 *
 * - `authorize` / `settle`: the seller authenticates with a **seller** API key; the caller is
 *   identified by their per-user key (a grant token restricted to one service). The call must be to
 *   one of the seller's own services. The price is the one the seller's code declares; the buyer is
 *   protected by the key's caps, their limits, policy and approvals, as for any paid call.
 * - Per-user keys: a grant with `services: [slug]` whose bearer token is the key, shown once,
 *   revocable (`DELETE`), backed by the user's wallet.
 * - Payouts: see payouts.ts.
 */
import { z } from 'zod';
import { TollgateError, formatMicros, parseMicros, PriceString, type ServiceRegistry, type Tollgate, type Authorization, type GrantView } from '@tollgate/core';
import { route, type RouteDef } from '../admin/route.ts';
import { requireOrg, sellerFilter } from '../admin/routes/deps.ts';
import type { ApiKeyPrincipal } from '../middleware/api-key/index.ts';
import { defaultUsageSink } from '../mcp/http.ts';
import type { Quotas } from '../quota/index.ts';
import type { UsageSink, UsageStatus } from '../usage/index.ts';
import { Payouts } from './payouts.ts';

const Id = z.string().min(1).max(200);

const AuthorizeBody = z.strictObject({
  service: z.string().min(1).max(63),
  tool: z.string().min(1).max(200),
  /** The caller's per-user API key (a grant token). */
  apiKey: z.string().min(1).max(500),
  idempotencyKey: z.string().regex(/^[\x21-\x7e]{1,200}$/),
  /** Held now; for `usage` pricing the most the call may cost. */
  price: PriceString,
  pricing: z.enum(['fixed', 'usage']).default('fixed'),
  fingerprint: z.string().min(1).max(200).optional(),
  taskId: Id.optional(),
  reason: z.string().max(1000).optional(),
  approvalId: Id.optional(),
});

const SettleBody = z.strictObject({
  callId: Id,
  status: z.enum(['ok', 'tool_error', 'upstream_failed', 'upstream_timeout', 'cancelled']),
  /** Usage pricing: what the call actually cost (≤ the held price). */
  actual: PriceString.optional(),
  units: z.number().int().min(0).max(1_000_000_000_000).optional(),
  chargeFailures: z.boolean().default(false),
  summary: z.string().max(300).optional(),
  latencyMs: z.number().int().min(0).max(86_400_000).optional(),
  /** The tool or route, for the usage event. */
  tool: z.string().min(1).max(200).optional(),
});

const CreateKeyBody = z.strictObject({
  userId: Id,
  service: z.string().min(1).max(63),
  totalCap: PriceString,
  perCallCap: PriceString.optional(),
  expiresAt: z.iso.datetime().optional(),
  name: z.string().max(200).optional(),
});

async function ownService(services: ServiceRegistry, principal: ApiKeyPrincipal, slug: string) {
  const service = await services.resolve(slug);
  if (principal.role !== 'admin' && service.service.sellerId !== principal.sellerId) {
    throw new TollgateError('forbidden', `service ${slug} is not one of this seller's services`, { service: slug });
  }
  return service;
}

function authorizationView(a: Authorization): Record<string, unknown> {
  if (a.type === 'authorized') return { type: a.type, callId: a.callId, hold: formatMicros(a.holdMicros), free: a.free, remaining: formatMicros(a.remainingMicros) };
  if (a.type === 'replayed') return { type: a.type, callId: a.callId, outcome: a.outcome, charged: formatMicros(a.chargedMicros), remaining: formatMicros(a.remainingMicros), result: a.result };
  return { type: a.type, callId: a.callId, retryAfterSeconds: a.retryAfterSeconds };
}

interface Deps {
  tg: Tollgate;
  services: ServiceRegistry;
  /** Where seller-side calls are metered (edge `sdk`); defaults to the usage_events table. */
  usage?: UsageSink;
  /** Per-principal quotas, checked before authorize. */
  quotas?: Quotas;
}

/** Every `/v1/provider` route: paid calls for sellers, per-user keys, payouts. */
export function providerRoutes(deps: Deps): RouteDef[] {
  const usage = deps.usage ?? defaultUsageSink(deps.tg);
  return [...callRoutes({ ...deps, usage }), ...keyRoutes(deps), ...payoutRoutes(new Payouts(deps.tg))];
}

interface Metered {
  service: string;
  tool: string;
  status: UsageStatus;
  code?: string;
  callId?: string;
  userId: string | null;
  grantId: string | null;
  latencyMs: number;
  units?: bigint;
  chargeMicros: bigint;
}

function meter(usage: UsageSink, m: Metered): void {
  void usage.write({
    at: new Date(), edge: 'sdk', principalId: m.userId, grantId: m.grantId, service: m.service, tool: m.tool, status: m.status,
    ...(m.code ? { code: m.code } : {}), ...(m.callId ? { callId: m.callId } : {}), latencyMs: m.latencyMs,
    ...(m.units !== undefined ? { units: m.units } : {}), chargeMicros: m.chargeMicros,
  }).catch(() => {});
}

function callRoutes({ tg, services, usage, quotas }: Deps & { usage: UsageSink }): RouteDef[] {
  return [
    route({ method: 'post', path: '/v1/provider/authorize', tag: 'provider', summary: "Authorize a paid call to one of the seller's services with the caller's API key (holds the price)", roles: ['seller', 'admin'], body: AuthorizeBody,
      handler: async ({ body, principal }) => {
        const resolved = await ownService(services, principal, body.service);
        try {
          if (quotas) await quotas.check((await tg.grants.authenticate(body.apiKey)).userId);
          const authorization = await tg.guard.authorize({
            token: body.apiKey, idempotencyKey: body.idempotencyKey, fingerprint: body.fingerprint ?? `${body.service} ${body.tool} ${body.idempotencyKey}`,
            service: resolved.ref, tool: body.tool, priceMicros: parseMicros(body.price, { field: 'price' }), pricing: body.pricing, edge: 'sdk',
            ...(body.taskId ? { taskId: body.taskId } : {}), ...(body.reason ? { reason: body.reason } : {}), ...(body.approvalId ? { approvalId: body.approvalId } : {}),
          });
          return authorizationView(authorization);
        } catch (error) {
          // Refused calls are metered (charge 0), attributed to the key's user when the key is valid.
          const grant = await tg.grants.authenticate(body.apiKey).catch(() => undefined);
          const code = error instanceof TollgateError ? error.code : 'internal';
          meter(usage, { service: body.service, tool: body.tool, status: 'refused', code, userId: grant?.userId ?? null, grantId: grant?.id ?? null, latencyMs: 0, chargeMicros: 0n });
          throw error;
        }
      } }),
    route({ method: 'post', path: '/v1/provider/settle', tag: 'provider', summary: 'Settle an authorized call: capture on ok (the actual amount for usage pricing), void otherwise', roles: ['seller', 'admin'], body: SettleBody,
      handler: async ({ body, principal }) => {
        const [call] = await tg.db.query<{ service_id: string; user_id: string; grant_id: string }>('SELECT service_id, user_id, grant_id FROM calls WHERE id = $1', [body.callId]);
        if (!call) throw new TollgateError('not_found', `no call ${body.callId}`, { callId: body.callId });
        const slug = (await services.get(call.service_id)).slug;
        await ownService(services, principal, slug);
        const settled = await tg.guard.settle({
          callId: body.callId, status: body.status, chargeFailures: body.chargeFailures,
          ...(body.actual !== undefined ? { actualMicros: parseMicros(body.actual, { field: 'actual' }) } : {}),
          ...(body.units !== undefined ? { units: BigInt(body.units) } : {}),
          ...(body.summary ? { summary: body.summary } : {}), ...(body.latencyMs !== undefined ? { latencyMs: body.latencyMs } : {}),
        });
        if (!settled.replay) {
          meter(usage, { service: slug, tool: body.tool ?? '', status: body.status, callId: body.callId, userId: call.user_id, grantId: call.grant_id,
            latencyMs: body.latencyMs ?? 0, chargeMicros: settled.chargedMicros, ...(body.units !== undefined ? { units: BigInt(body.units) } : {}) });
        }
        return { callId: settled.callId, outcome: settled.outcome, charged: formatMicros(settled.chargedMicros), remaining: formatMicros(settled.remainingMicros), replay: settled.replay };
      } }),
  ];
}

/** The grant tag that marks a grant as a per-user API key. */
const KEY_TAG = 'provider-key';

const KeyView = z.object({
  keyId: z.string(), keyHint: z.string(), userId: z.string(), service: z.string(), name: z.string().nullable(),
  status: z.enum(['active', 'revoked', 'expired', 'exhausted', 'scheduled']), totalCap: z.string(), spent: z.string(), remaining: z.string(),
  expiresAt: z.string().nullable(), createdAt: z.string(),
});

function keyView(grant: GrantView): z.infer<typeof KeyView> {
  const meta = grant.metadata as { service?: string; name?: string };
  return {
    keyId: grant.id, keyHint: grant.tokenHint, userId: grant.userId, service: meta.service ?? grant.services[0] ?? '', name: meta.name ?? null,
    status: grant.status, totalCap: formatMicros(grant.totalCapMicros), spent: formatMicros(grant.spentMicros), remaining: formatMicros(grant.remainingMicros),
    expiresAt: grant.expiresAt?.toISOString() ?? null, createdAt: grant.createdAt.toISOString(),
  };
}

function keyRoutes({ tg, services }: Deps): RouteDef[] {
  return [
    route({ method: 'get', path: '/v1/provider/keys', tag: 'provider', summary: "List a user's API keys (hints only: a key is shown once, at creation)", roles: ['admin', 'buyer'],
      query: z.strictObject({ userId: Id, service: z.string().min(1).max(63).optional() }), response: z.object({ items: z.array(KeyView) }),
      handler: async ({ query, principal }) => {
        const user = await tg.principals.getUser(query.userId);
        requireOrg(principal, user.orgId);
        const keys = (await tg.grants.list({ userId: query.userId, tag: KEY_TAG, limit: 1000 })).map(keyView);
        return { items: query.service ? keys.filter((k) => k.service === query.service) : keys };
      } }),
    route({ method: 'post', path: '/v1/provider/keys', tag: 'provider', summary: "Create a user's API key for one service (a grant restricted to it); the key is returned once", roles: ['admin', 'buyer'], body: CreateKeyBody, status: 201,
      handler: async ({ body, principal }) => {
        const user = await tg.principals.getUser(body.userId);
        requireOrg(principal, user.orgId);
        await services.resolve(body.service);
        const created = await tg.grants.create({
          userId: body.userId, services: [body.service], totalCap: body.totalCap, tag: KEY_TAG,
          ...(body.perCallCap ? { perCallCap: body.perCallCap } : {}), ...(body.expiresAt ? { expiresAt: body.expiresAt } : {}),
          metadata: { kind: 'provider_key', service: body.service, ...(body.name ? { name: body.name } : {}) },
        });
        return { keyId: created.grant.id, key: created.token, service: body.service, totalCap: body.totalCap };
      } }),
    route({ method: 'delete', path: '/v1/provider/keys/:id', tag: 'provider', summary: "Revoke a user's API key", roles: ['admin', 'buyer'], params: z.strictObject({ id: Id }),
      handler: async ({ params, principal }) => {
        const grant = await tg.grants.get(params.id);
        requireOrg(principal, grant.orgId);
        return tg.grants.revoke(grant.id, 'API key revoked');
      } }),
  ];
}

function payoutRoutes(payouts: Payouts): RouteDef[] {
  return [
    route({ method: 'post', path: '/v1/provider/payouts', tag: 'provider', summary: "Request a payout of the seller's earnings (held until paid or failed)", roles: ['seller', 'admin'], status: 201,
      body: z.strictObject({ amount: PriceString, sellerId: Id.optional(), idempotencyKey: z.string().regex(/^[\x21-\x7e]{1,200}$/).optional() }),
      handler: async ({ body, principal }) => {
        const sellerId = principal.role === 'seller' ? principal.sellerId : body.sellerId;
        if (!sellerId) throw new TollgateError('invalid_request', 'sellerId: required for an admin key', { field: 'sellerId' });
        return payouts.request(sellerId, body.amount, body.idempotencyKey);
      } }),
    route({ method: 'get', path: '/v1/provider/payouts', tag: 'provider', summary: 'List payouts (a seller key sees its own)', roles: ['seller', 'admin'], query: z.strictObject({ sellerId: Id.optional() }),
      handler: async ({ query, principal }) => ({ items: await payouts.list(sellerFilter(principal, query.sellerId)) }) }),
    route({ method: 'post', path: '/v1/provider/payouts/:id/paid', tag: 'provider', summary: 'Mark a payout paid (posts the hold) with the rail reference', roles: ['admin'], params: z.strictObject({ id: Id }),
      body: z.strictObject({ reference: z.string().min(1).max(200) }), handler: async ({ params, body }) => payouts.markPaid(params.id, body.reference) }),
    route({ method: 'post', path: '/v1/provider/payouts/:id/failed', tag: 'provider', summary: 'Mark a payout failed (voids the hold; the money returns to earnings)', roles: ['admin'], params: z.strictObject({ id: Id }),
      body: z.strictObject({ reason: z.string().min(1).max(500) }), handler: async ({ params, body }) => payouts.markFailed(params.id, body.reason) }),
  ];
}
