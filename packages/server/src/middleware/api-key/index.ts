/**
 * @module middleware/api-key
 * Authenticates admin API requests by `Authorization: Bearer <api key>` (or `X-Api-Key`), sets the
 * principal on the context, and locks out a source after repeated failures.
 */
import type { MiddlewareHandler } from 'hono';
import { getConnInfo } from '@hono/node-server/conninfo';
import { TollgateError } from '@tollgate/core';
import type { AppEnv } from '../../env.ts';
import type { Metrics } from '../../metrics/index.ts';
import type { ApiKeys, Role } from './api-keys.ts';
import { Lockout } from './lockout.ts';

export { ApiKeys, CreateApiKeySchema, ROLES, type ApiKeyPrincipal, type ApiKeyView, type Role, type CreateApiKeyInput } from './api-keys.ts';
export { Lockout, type LockoutOptions } from './lockout.ts';

export interface ApiKeyAuthOptions {
  keys: ApiKeys;
  lockout: Lockout;
  trustProxy?: boolean;
  metrics?: Metrics;
}

/** The client's address: the socket's, or the first X-Forwarded-For entry behind a trusted proxy. */
export function clientIp(c: Parameters<MiddlewareHandler>[0], trustProxy: boolean): string {
  if (trustProxy) {
    const forwarded = c.req.header('x-forwarded-for')?.split(',')[0]?.trim();
    if (forwarded) return forwarded;
  }
  try {
    return getConnInfo(c).remote.address ?? 'unknown';
  } catch {
    // app.request() in tests has no socket.
    return 'local';
  }
}

export function apiKeyAuth(options: ApiKeyAuthOptions): MiddlewareHandler<AppEnv> {
  const { keys, lockout, trustProxy = false, metrics } = options;
  return async function apiKeyAuthentication(c, next) {
    const header = c.req.header('authorization');
    const presented = header?.match(/^Bearer\s+(\S+)\s*$/i)?.[1] ?? c.req.header('x-api-key')?.trim();
    if (!presented) throw new TollgateError('unauthorized', 'An API key is required: send Authorization: Bearer <api key>');
    const source = Lockout.source(clientIp(c, trustProxy), presented);
    const lockedMs = lockout.lockedForMs(source);
    if (lockedMs > 0) {
      metrics?.authFailures.inc({ kind: 'locked_out' });
      throw new TollgateError('locked_out', 'Too many failed authentications from this address; try again later', { retryAfterSeconds: Math.ceil(lockedMs / 1000) });
    }
    const principal = presented.length <= 200 ? await keys.authenticate(presented) : undefined;
    if (!principal) {
      metrics?.authFailures.inc({ kind: 'api_key' });
      const started = lockout.fail(source);
      if (started > 0) throw new TollgateError('locked_out', 'Too many failed authentications from this address; try again later', { retryAfterSeconds: Math.ceil(started / 1000) });
      throw new TollgateError('unauthorized', 'The API key is not valid');
    }
    lockout.succeed(source);
    c.set('principal', principal);
    await next();
  };
}

/** Refuses principals whose role is not listed. */
export function requireRole(...roles: Role[]): MiddlewareHandler<AppEnv> {
  return async function roleCheck(c, next) {
    const principal = c.get('principal');
    if (!roles.includes(principal.role)) throw new TollgateError('forbidden', `this needs a key with role ${roles.join(' or ')}; this key is ${principal.role}`, { role: principal.role, required: roles });
    await next();
  };
}
