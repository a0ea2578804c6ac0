/**
 * @module admin/routes/principals
 * Orgs, projects, users and agents.
 */
import { z } from 'zod';
import { CreateAgentSchema, CreateOrgSchema, CreateProjectSchema, CreateUserSchema, OrgSettingsSchema } from '@tollgate/core';
import { route, type RouteDef } from '../route.ts';
import { IdParams, requireOrg, type AdminDeps } from './deps.ts';

const Org = z.object({ id: z.string(), name: z.string(), currency: z.string(), monthlyLimitMicros: z.string().nullable(), settings: z.record(z.string(), z.unknown()), createdAt: z.string() });
const User = z.object({ id: z.string(), orgId: z.string(), projectId: z.string().nullable(), name: z.string(), email: z.string().nullable(), monthlyLimitMicros: z.string().nullable() });

export function principalRoutes({ tg }: AdminDeps): RouteDef[] {
  return [
    route({ method: 'get', path: '/v1/me', tag: 'keys', summary: 'Who this API key is', roles: ['admin', 'buyer', 'seller'], handler: async ({ principal }) => principal }),
    route({ method: 'post', path: '/v1/orgs', tag: 'principals', summary: 'Create an org (opens its wallet)', roles: ['admin'], body: CreateOrgSchema, response: Org, status: 201, handler: async ({ body }) => tg.principals.createOrg(body) }),
    route({ method: 'get', path: '/v1/orgs', tag: 'principals', summary: 'List orgs', roles: ['admin', 'buyer'], response: z.object({ items: z.array(Org) }), handler: async ({ principal }) => ({ items: (await tg.principals.listOrgs()).filter((o) => principal.role === 'admin' || o.id === principal.orgId) }) }),
    route({ method: 'get', path: '/v1/orgs/:id', tag: 'principals', summary: 'Get an org', roles: ['admin', 'buyer'], params: IdParams, response: Org, handler: async ({ params, principal }) => {
      requireOrg(principal, params.id);
      return tg.principals.getOrg(params.id);
    } }),
    route({ method: 'patch', path: '/v1/orgs/:id/settings', tag: 'principals', summary: 'Replace an org\'s settings (agent tiers, fee, hold timeout, approval triggers)', roles: ['admin'], params: IdParams, body: OrgSettingsSchema, response: Org, handler: async ({ params, body }) => tg.principals.updateOrgSettings(params.id, body) }),
    route({ method: 'get', path: '/v1/orgs/:id/users', tag: 'principals', summary: 'List an org\'s users', roles: ['admin', 'buyer'], params: IdParams, response: z.object({ items: z.array(User) }), handler: async ({ params, principal }) => {
      requireOrg(principal, params.id);
      return { items: await tg.principals.listUsers(params.id) };
    } }),
    route({ method: 'post', path: '/v1/projects', tag: 'principals', summary: 'Create a project (team) in an org', roles: ['admin', 'buyer'], body: CreateProjectSchema, status: 201, handler: async ({ body, principal }) => {
      requireOrg(principal, body.orgId);
      return tg.principals.createProject(body);
    } }),
    route({ method: 'post', path: '/v1/users', tag: 'principals', summary: 'Create a user (opens their wallet)', roles: ['admin', 'buyer'], body: CreateUserSchema, response: User, status: 201, handler: async ({ body, principal }) => {
      requireOrg(principal, body.orgId);
      return tg.principals.createUser(body);
    } }),
    route({ method: 'get', path: '/v1/users/:id', tag: 'principals', summary: 'Get a user', roles: ['admin', 'buyer'], params: IdParams, response: User, handler: async ({ params, principal }) => {
      const user = await tg.principals.getUser(params.id);
      requireOrg(principal, user.orgId);
      return user;
    } }),
    route({ method: 'post', path: '/v1/agents', tag: 'principals', summary: 'Register an agent acting for a user', roles: ['admin', 'buyer'], body: CreateAgentSchema, status: 201, handler: async ({ body, principal }) => {
      const user = await tg.principals.getUser(body.userId);
      requireOrg(principal, user.orgId);
      return tg.principals.createAgent(body);
    } }),
  ];
}
