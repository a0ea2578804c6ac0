/**
 * @module admin/routes/grants
 * Grants (scoped budgets): create (the token is in this answer only), list, get, revoke, and panic
 * (revoke every grant of a user at once).
 */
import { z } from 'zod';
import { CreateGrantSchema, TollgateError } from '@tollgate/core';
import { route, type RouteDef } from '../route.ts';
import { IdParams, orgFilter, requireOrg, type AdminDeps } from './deps.ts';

const GrantView = z.object({
  id: z.string(), tokenHint: z.string(), orgId: z.string(), userId: z.string(), agentId: z.string().nullable(), taskId: z.string().nullable(),
  status: z.enum(['active', 'revoked', 'expired', 'exhausted', 'scheduled']), totalCapMicros: z.string(), spentMicros: z.string(), heldMicros: z.string(), remainingMicros: z.string(),
  services: z.array(z.string()), expiresAt: z.string().nullable(), createdAt: z.string(),
});

export function grantRoutes({ tg }: AdminDeps): RouteDef[] {
  return [
    route({ method: 'post', path: '/v1/grants', tag: 'grants', summary: 'Create a grant; the bearer token is returned once', roles: ['admin', 'buyer'], body: CreateGrantSchema, status: 201,
      response: z.object({ grant: GrantView, token: z.string() }), handler: async ({ body, principal }) => {
        const user = await tg.principals.getUser(body.userId);
        requireOrg(principal, user.orgId);
        const created = await tg.grants.create(body);
        return { grant: await tg.grants.get(created.grant.id), token: created.token };
      } }),
    route({ method: 'get', path: '/v1/grants', tag: 'grants', summary: 'List grants (newest first)', roles: ['admin', 'buyer'],
      query: z.strictObject({ userId: z.string().min(1).max(200).optional(), orgId: z.string().min(1).max(200).optional(), status: z.enum(['active', 'revoked', 'expired', 'exhausted', 'scheduled']).optional(), limit: z.coerce.number().int().min(1).max(1000).optional() }),
      response: z.object({ items: z.array(GrantView) }), handler: async ({ query, principal }) => {
        const orgId = orgFilter(principal, query.orgId);
        return { items: await tg.grants.list({ ...query, ...(orgId ? { orgId } : {}) }) };
      } }),
    route({ method: 'get', path: '/v1/grants/:id', tag: 'grants', summary: 'Get a grant with what it has spent and has left', roles: ['admin', 'buyer'], params: IdParams, response: GrantView, handler: async ({ params, principal }) => {
      const grant = await tg.grants.get(params.id);
      requireOrg(principal, grant.orgId);
      return grant;
    } }),
    route({ method: 'post', path: '/v1/grants/:id/revoke', tag: 'grants', summary: 'Revoke a grant and its children, effective for the next call', roles: ['admin', 'buyer'], params: IdParams,
      body: z.strictObject({ reason: z.string().min(1).max(500).optional() }), response: z.object({ revoked: z.array(z.string()) }), handler: async ({ params, body, principal }) => {
        const grant = await tg.grants.get(params.id);
        requireOrg(principal, grant.orgId);
        return tg.grants.revoke(params.id, body?.reason ?? 'revoked');
      } }),
    route({ method: 'post', path: '/v1/users/:id/panic', tag: 'grants', summary: 'Revoke every grant of a user at once', roles: ['admin', 'buyer'], params: IdParams, response: z.object({ revoked: z.array(z.string()) }), handler: async ({ params, principal }) => {
      const user = await tg.principals.getUser(params.id);
      requireOrg(principal, user.orgId);
      return tg.grants.panic(params.id);
    } }),
    route({ method: 'get', path: '/v1/grant', tag: 'grants', summary: 'The grant of the bearer grant token (an agent\'s own budget)', roles: [], publicAuth: true, response: GrantView, handler: async ({ c }) => {
      const token = c.req.header('authorization')?.match(/^Bearer\s+(\S+)\s*$/i)?.[1];
      if (!token) throw new TollgateError('token_invalid', 'Send the grant token as Authorization: Bearer <token>');
      const grant = await tg.grants.authenticate(token);
      return tg.grants.get(grant.id);
    } }),
  ];
}
