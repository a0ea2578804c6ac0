/**
 * @module quota/routes
 * Admin routes for per-principal quotas: read the quota that applies, set one, remove one (the
 * default applies again).
 */
import { z } from 'zod';
import type { Tollgate } from '@tollgate/core';
import { route, type RouteDef } from '../admin/route.ts';
import type { Quotas } from './quotas.ts';
import { QUOTA_WINDOW_SECONDS_MAX } from './types.ts';

const PrincipalParams = z.strictObject({ principalId: z.string().min(1).max(200) });
const QuotaBody = z.strictObject({
  metric: z.enum(['calls', 'units']),
  limit: z.union([z.number().int().min(0).max(Number.MAX_SAFE_INTEGER), z.string().regex(/^\d{1,18}$/, 'a whole number')]).transform((v) => BigInt(v)),
  windowSeconds: z.number().int().min(1).max(QUOTA_WINDOW_SECONDS_MAX),
});
const QuotaView = z.object({
  principalId: z.string(), source: z.enum(['principal', 'default', 'none']), metric: z.enum(['calls', 'units']).optional(), limit: z.string().optional(), windowSeconds: z.number().optional(), store: z.enum(['redis', 'postgres']),
});

export function quotaRoutes({ tg, quotas }: { tg: Tollgate; quotas: Quotas }): RouteDef[] {
  const view = async (principalId: string) => {
    const own = await quotas.get(principalId);
    const limit = own ?? (await quotas.limitFor(principalId));
    return { principalId, source: own ? 'principal' : limit ? 'default' : 'none', ...(limit ? { metric: limit.metric, limit: limit.limit.toString(), windowSeconds: limit.windowSeconds } : {}), store: quotas.store.kind };
  };
  return [
    route({ method: 'get', path: '/v1/quotas/:principalId', tag: 'quotas', summary: "The quota that applies to a user (their own, else the default)", roles: ['admin'], params: PrincipalParams, response: QuotaView,
      handler: async ({ params }) => view(params.principalId) }),
    route({ method: 'post', path: '/v1/quotas/:principalId', tag: 'quotas', summary: "Set a user's own quota: calls or units per window", roles: ['admin'], params: PrincipalParams, body: QuotaBody, response: QuotaView,
      handler: async ({ params, body }) => {
        await tg.principals.getUser(params.principalId);
        await quotas.set(params.principalId, body);
        return view(params.principalId);
      } }),
    route({ method: 'delete', path: '/v1/quotas/:principalId', tag: 'quotas', summary: "Remove a user's own quota (the default applies again)", roles: ['admin'], params: PrincipalParams, response: QuotaView,
      handler: async ({ params }) => {
        await quotas.remove(params.principalId);
        return view(params.principalId);
      } }),
  ];
}
