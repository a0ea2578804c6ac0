/**
 * @module admin/route
 * One declaration per admin route: method, path, roles, zod schemas for params, query and body, and
 * the handler. The same declaration registers the Hono route, validates the request, and produces
 * the route's OpenAPI entry, so the document cannot drift from what the server checks.
 */
import type { Context, Hono } from 'hono';
import { z } from 'zod';
import { TollgateError, jsonSafe } from '@tollgate/core';
import type { AppEnv } from '../env.ts';
import type { ApiKeyPrincipal, Role } from '../middleware/api-key/index.ts';
import { requireRole } from '../middleware/api-key/index.ts';

export type Method = 'get' | 'post' | 'patch' | 'delete';

export interface HandlerInput<P, Q, B> {
  c: Context<AppEnv>;
  params: P;
  query: Q;
  body: B;
  principal: ApiKeyPrincipal;
}

export interface RouteDef<P = any, Q = any, B = any> {
  method: Method;
  /** Hono path, e.g. `/v1/grants/:id/revoke`. */
  path: string;
  tag: string;
  summary: string;
  description?: string;
  roles: Role[];
  params?: z.ZodType<P>;
  query?: z.ZodType<Q>;
  body?: z.ZodType<B>;
  /** Describes the answer in the OpenAPI document. */
  response?: z.ZodType;
  /** Success status (default 200). */
  status?: number;
  /** Content type of a non-JSON answer (CSV, JSONL, text). */
  produces?: string;
  /** Set when the route authenticates itself (e.g. accepts a grant token). */
  publicAuth?: boolean;
  handler(input: HandlerInput<P, Q, B>): Promise<unknown>;
}

/** Declares a route with its types inferred from the schemas. */
export function route<P = Record<string, never>, Q = Record<string, never>, B = undefined>(def: RouteDef<P, Q, B>): RouteDef<P, Q, B> {
  return def;
}

/** Largest admin request body. */
export const ADMIN_BODY_BYTES_MAX = 1024 * 1024;

function parse<T>(schema: z.ZodType<T> | undefined, value: unknown, where: string): T {
  if (!schema) return (where === 'body' ? undefined : {}) as T;
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  const path = issue && issue.path.length > 0 ? issue.path.join('.') : where;
  throw new TollgateError('invalid_request', `${path}: ${issue?.message ?? 'is invalid'}`, {
    field: path,
    in: where,
    issues: result.error.issues.slice(0, 10).map((i) => ({ path: i.path.join('.'), message: i.message })),
  });
}

async function readJson(c: Context<AppEnv>): Promise<unknown> {
  const length = Number(c.req.header('content-length') ?? '0');
  if (length > ADMIN_BODY_BYTES_MAX) throw new TollgateError('payload_too_large', `the body is larger than ${ADMIN_BODY_BYTES_MAX} bytes`, { bytesMax: ADMIN_BODY_BYTES_MAX });
  const text = await c.req.text();
  if (text.length > ADMIN_BODY_BYTES_MAX) throw new TollgateError('payload_too_large', `the body is larger than ${ADMIN_BODY_BYTES_MAX} bytes`, { bytesMax: ADMIN_BODY_BYTES_MAX });
  if (text.trim() === '') return {};
  try {
    return JSON.parse(text);
  } catch {
    throw new TollgateError('invalid_request', 'body: is not valid JSON', { field: 'body' });
  }
}

/** Registers every route on `app` (the api-key middleware must already guard `/v1/*`). */
export function registerRoutes(app: Hono<AppEnv>, routes: readonly RouteDef[]): void {
  for (const def of routes) {
    const handlers = def.publicAuth ? [] : [requireRole(...def.roles)];
    app.on(def.method.toUpperCase(), [def.path], ...handlers, async (c) => {
      const params = parse(def.params, c.req.param(), 'path');
      const query = parse(def.query, c.req.query(), 'query');
      const body = def.body ? parse(def.body, await readJson(c), 'body') : undefined;
      const result = await def.handler({ c, params, query, body, principal: c.get('principal') });
      if (result instanceof Response) return result;
      return c.json(jsonSafe(result) as object, (def.status ?? 200) as 200);
    });
  }
}
