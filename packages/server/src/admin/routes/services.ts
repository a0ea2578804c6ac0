/**
 * @module admin/routes/services
 * The service registry. Credentials are accepted on create and update and never returned.
 */
import { z } from 'zod';
import { CreateServiceSchema, ServiceViewSchema, TollgateError, UpdateServiceSchema, quote, jsonSafe } from '@tollgate/core';
import { route, type RouteDef } from '../route.ts';
import { IdParams, sellerFilter, type AdminDeps } from './deps.ts';

export function serviceRoutes({ services }: AdminDeps): RouteDef[] {
  return [
    route({ method: 'post', path: '/v1/services', tag: 'services', summary: 'Register a paid service (upstream URL, credentials, prices)', roles: ['admin', 'seller'], body: CreateServiceSchema, response: ServiceViewSchema, status: 201, handler: async ({ body, principal }) => {
      if (principal.role === 'seller' && body.sellerId !== principal.sellerId) throw new TollgateError('forbidden', 'sellerId: a seller key registers services for its own seller id', { field: 'sellerId' });
      return services.create(body);
    } }),
    route({ method: 'get', path: '/v1/services', tag: 'services', summary: 'List services with their prices', roles: ['admin', 'buyer', 'seller'], query: z.strictObject({ sellerId: z.string().min(1).max(200).optional() }), response: z.object({ items: z.array(ServiceViewSchema) }), handler: async ({ query, principal }) => {
      const sellerId = sellerFilter(principal, query.sellerId);
      return { items: await services.list(sellerId ? { sellerId } : {}) };
    } }),
    route({ method: 'get', path: '/v1/services/:id', tag: 'services', summary: 'Get a service by id or slug', roles: ['admin', 'buyer', 'seller'], params: IdParams, response: ServiceViewSchema, handler: async ({ params, principal }) => {
      const service = await services.get(params.id);
      if (principal.role === 'seller') sellerFilter(principal, service.sellerId);
      return service;
    } }),
    route({ method: 'patch', path: '/v1/services/:id', tag: 'services', summary: 'Change a service (prices, credentials, upstream, disable)', roles: ['admin', 'seller'], params: IdParams, body: UpdateServiceSchema, response: ServiceViewSchema, handler: async ({ params, body, principal }) => {
      if (principal.role === 'seller') sellerFilter(principal, (await services.get(params.id)).sellerId);
      return services.update(params.id, body);
    } }),
    route({ method: 'get', path: '/v1/services/:id/quote', tag: 'services', summary: 'The price of one route (what would be held)', roles: ['admin', 'buyer', 'seller'], params: IdParams,
      query: z.strictObject({ method: z.string().min(1).max(10).default('GET'), path: z.string().min(1).max(2000).default('/') }), handler: async ({ params, query }) => {
        const service = await services.get(params.id);
        const q = quote(service, query.method, query.path);
        if (!q) throw new TollgateError('not_found', `${service.slug} has no price for ${query.method.toUpperCase()} ${query.path}`, { service: service.slug });
        return jsonSafe({ service: service.slug, pricing: q.pricing, holdMicros: q.holdMicros, rule: q.rule, ruleIndex: q.ruleIndex });
      } }),
  ];
}
