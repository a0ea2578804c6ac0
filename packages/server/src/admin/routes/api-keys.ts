/**
 * @module admin/routes/api-keys
 * API keys: create (the secret is in this answer only), list, revoke. Admins only.
 */
import { z } from 'zod';
import { CreateApiKeySchema } from '../../middleware/api-key/index.ts';
import { route, type RouteDef } from '../route.ts';
import { IdParams, type AdminDeps } from './deps.ts';

const KeyView = z.object({ keyId: z.string(), name: z.string(), hint: z.string(), role: z.enum(['admin', 'buyer', 'seller']), orgId: z.string().nullable(), userId: z.string().nullable(), sellerId: z.string().nullable(), revoked: z.boolean() });

export function apiKeyRoutes({ apiKeys }: AdminDeps): RouteDef[] {
  return [
    route({ method: 'post', path: '/v1/api-keys', tag: 'keys', summary: 'Create an API key; the secret is returned once', roles: ['admin'], body: CreateApiKeySchema, status: 201, response: z.object({ key: KeyView, secret: z.string() }), handler: async ({ body }) => apiKeys.create(body) }),
    route({ method: 'get', path: '/v1/api-keys', tag: 'keys', summary: 'List API keys (hints only)', roles: ['admin'], response: z.object({ items: z.array(KeyView) }), handler: async () => ({ items: await apiKeys.list() }) }),
    route({ method: 'post', path: '/v1/api-keys/:id/revoke', tag: 'keys', summary: 'Revoke an API key', roles: ['admin'], params: IdParams, response: KeyView, handler: async ({ params }) => apiKeys.revoke(params.id) }),
  ];
}
