/**
 * @module stripe-routes
 * Admin routes for the Stripe customer mapping: which Stripe customer pays for a user's or an org's
 * usage (a user's own mapping wins over their org's).
 */
import { z } from 'zod';
import { TollgateError, type Tollgate } from '@tollgate/core';
import type { StripeCustomers } from '@tollgate/rails/stripe';
import { route, type RouteDef } from './admin/route.ts';

const SubjectParams = z.strictObject({ subject: z.enum(['user', 'org']), subjectId: z.string().min(1).max(200) });
const MappingBody = z.strictObject({ customerId: z.string().min(1).max(255) });
const Mapping = z.object({ subject: z.enum(['user', 'org']), subjectId: z.string(), customerId: z.string(), updatedAt: z.string() });

export function stripeCustomerRoutes({ tg, customers }: { tg: Tollgate; customers: StripeCustomers }): RouteDef[] {
  return [
    route({ method: 'post', path: '/v1/stripe/customers/:subject/:subjectId', tag: 'stripe', summary: "Bill a user's or an org's captured usage to a Stripe customer (meter events)", roles: ['admin'], params: SubjectParams, body: MappingBody, response: Mapping,
      handler: async ({ params, body }) => {
        if (params.subject === 'user') await tg.principals.getUser(params.subjectId);
        else await tg.principals.getOrg(params.subjectId);
        return customers.set(params.subject, params.subjectId, body.customerId);
      } }),
    route({ method: 'get', path: '/v1/stripe/customers/:subject/:subjectId', tag: 'stripe', summary: "The Stripe customer of a user or an org", roles: ['admin'], params: SubjectParams, response: Mapping,
      handler: async ({ params }) => {
        const mapping = await customers.get(params.subject, params.subjectId);
        if (!mapping) throw notMapped(params.subject, params.subjectId);
        return mapping;
      } }),
    route({ method: 'delete', path: '/v1/stripe/customers/:subject/:subjectId', tag: 'stripe', summary: "Stop billing a user's or an org's usage through Stripe", roles: ['admin'], params: SubjectParams, status: 204,
      handler: async ({ c, params }) => {
        if (!(await customers.remove(params.subject, params.subjectId))) throw notMapped(params.subject, params.subjectId);
        return c.body(null, 204);
      } }),
  ];
}

function notMapped(subject: string, subjectId: string) {
  return new TollgateError('not_found', `${subject} ${subjectId} has no Stripe customer`, { subject, subjectId });
}
