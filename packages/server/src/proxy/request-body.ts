/**
 * @module proxy/request-body
 * The request body, prepared for both the idempotency fingerprint and the upstream. A body with a
 * Content-Length up to `fingerprintBodyBytesMax` is read and hashed, so the same key with another
 * body is an `idempotency_conflict`. A larger or chunked body is never buffered: it streams to the
 * upstream, and its fingerprint covers its declared length, type and any `Content-Digest` the client
 * sent (send one to get full conflict detection on large uploads).
 */
import { createHash } from 'node:crypto';
import { TollgateError } from '@tollgate/core';
import { readBounded } from './metered-body.ts';

export interface PreparedBody {
  body: Uint8Array | ReadableStream<Uint8Array> | null;
  /** What the fingerprint covers of the body. */
  digest: string;
}

export interface BodyLimits {
  requestBodyBytesMax: number;
  fingerprintBodyBytesMax: number;
}

export async function prepareBody(request: Request, limits: BodyLimits): Promise<PreparedBody> {
  // The method first: on @hono/node-server, reading `body` builds a whole undici Request (~0.1 ms).
  if (request.method === 'GET' || request.method === 'HEAD' || request.body === null) return { body: null, digest: 'none' };
  const declared = request.headers.get('content-length');
  const length = declared !== null && /^\d{1,15}$/.test(declared) ? Number(declared) : undefined;
  if (length !== undefined && length > limits.requestBodyBytesMax) throw tooLarge(limits.requestBodyBytesMax);
  if (length !== undefined && length <= limits.fingerprintBodyBytesMax) {
    const bytes = await readBounded(request.body, limits.fingerprintBodyBytesMax);
    if (bytes === undefined) throw tooLarge(limits.fingerprintBodyBytesMax);
    return { body: bytes, digest: `sha256:${createHash('sha256').update(bytes).digest('hex')}` };
  }
  const contentDigest = request.headers.get('content-digest') ?? request.headers.get('digest') ?? '';
  return {
    body: request.body.pipeThrough(byteLimit(limits.requestBodyBytesMax)),
    digest: `stream:${length ?? 'chunked'}:${request.headers.get('content-type') ?? ''}:${contentDigest}`,
  };
}


function byteLimit(bytesMax: number): TransformStream<Uint8Array, Uint8Array> {
  let total = 0;
  return new TransformStream({
    transform(chunk, controller) {
      total += chunk.byteLength;
      if (total > bytesMax) controller.error(tooLarge(bytesMax));
      else controller.enqueue(chunk);
    },
  });
}

function tooLarge(bytesMax: number): TollgateError {
  return new TollgateError('payload_too_large', `the request body is larger than ${bytesMax} bytes`, { bytesMax });
}

/** What makes a request this request: method, path, query and body digest. */
export function fingerprintOf(method: string, path: string, query: string, bodyDigest: string): string {
  return createHash('sha256').update(`${method}\n${path}\n${query}\n${bodyDigest}`).digest('hex');
}
