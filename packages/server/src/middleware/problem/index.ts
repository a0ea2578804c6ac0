/**
 * @module middleware/problem
 * The one place errors become responses: a `TollgateError` becomes RFC 9457 problem details with
 * its stable `code` and data; anything else is a bug, logged, and answered with a 500 that names
 * no internals. Retry-After and WWW-Authenticate are set from the error so clients need not parse.
 */
import type { Context, ErrorHandler, NotFoundHandler } from 'hono';
import { HTTPException } from 'hono/http-exception';
import { TollgateError, type ErrorCode } from '@tollgate/core';
import type { Logger } from '../../logger.ts';

export const PROBLEM_CONTENT_TYPE = 'application/problem+json';

/** A problem+json response for `error`. */
export function problemResponse(error: TollgateError, instance?: string, extraHeaders: Record<string, string> = {}): Response {
  const headers: Record<string, string> = { 'content-type': PROBLEM_CONTENT_TYPE, 'cache-control': 'no-store', ...extraHeaders };
  const retry = error.data.retryAfterSeconds;
  if (typeof retry === 'number' && Number.isFinite(retry)) headers['retry-after'] = String(Math.max(0, Math.ceil(retry)));
  // RFC 6750: an expired token is an invalid_token too; an edge may send a richer challenge of its own.
  if (error.status === 401 && !headers['www-authenticate']) headers['www-authenticate'] = 'Bearer error="invalid_token"';
  return new Response(JSON.stringify(error.toProblem(instance)), { status: error.status, headers });
}

const HTTP_CODES: Record<number, ErrorCode> = { 400: 'invalid_request', 401: 'unauthorized', 403: 'forbidden', 404: 'not_found', 409: 'conflict', 413: 'payload_too_large', 429: 'rate_limited' };

/** Turns anything thrown into a TollgateError (unknown errors become `internal`). */
export function toTollgateError(error: unknown): TollgateError {
  if (error instanceof TollgateError) return error;
  if (error instanceof HTTPException) {
    const code = HTTP_CODES[error.status] ?? (error.status >= 500 ? 'internal' : 'invalid_request');
    return new TollgateError(code, error.message || code.replaceAll('_', ' '));
  }
  return new TollgateError('internal', 'An internal error occurred; it has been logged');
}

export interface ProblemHandlerOptions {
  logger: Logger;
  /** Extra headers for every problem (e.g. the call id). */
  headers?: (c: Context) => Record<string, string>;
}

export function problemHandler(options: ProblemHandlerOptions): ErrorHandler {
  const { logger } = options;
  return function onError(error, c) {
    const mapped = toTollgateError(error);
    if (mapped.code === 'internal') {
      logger.error({ err: error instanceof Error ? { message: error.message, stack: error.stack, name: error.name } : String(error), path: c.req.path, method: c.req.method, callId: c.get('callId') }, 'internal error');
    }
    return problemResponse(mapped, c.req.path, options.headers?.(c) ?? {});
  };
}

export function notFoundHandler(): NotFoundHandler {
  return function notFound(c) {
    return problemResponse(new TollgateError('not_found', `no route ${c.req.method} ${c.req.path}`, { method: c.req.method, path: c.req.path }), c.req.path);
  };
}
