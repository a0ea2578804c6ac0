/**
 * @module mcp/upstream-fetch
 * The `fetch` the gateway's MCP clients use to reach Streamable HTTP upstreams, on `node:http` with
 * keep-alive sockets instead of Node's built-in fetch. Every paid tool call is one POST upstream;
 * the built-in fetch spent about as much CPU on that POST as the rest of the gateway's own work
 * (measured with `bench:mcp`: ~1.6 ms vs ~0.9 ms of client CPU per call), and left an abort listener
 * on the transport's long-lived signal for every request until garbage collection. This one covers
 * what the SDK's transport asks of a fetch — method, headers, a string body, a signal, manual
 * redirects (it follows them itself, within the origin) — and removes its listener when done.
 */
import { Agent as HttpAgent, request as httpRequest, type IncomingMessage } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import type { FetchLike } from '@modelcontextprotocol/sdk/shared/transport.js';
import { finalResponseOf } from './single-answer.ts';

/**
 * How long an idle upstream socket is kept (shorter when the upstream's `Keep-Alive: timeout=`
 * says so; Node then closes it a second early so a request never lands on a closing socket).
 */
const IDLE_SOCKET_MS = 4_000;
/** Body chunks buffered ahead of the reader before the socket is paused. */
const BODY_CHUNKS_AHEAD_MAX = 16;
/** Most bytes of an SSE answer read while waiting for its first event to end. */
const SSE_PEEK_BYTES_MAX = 64 * 1024;
/** Statuses whose responses have no body (a `Response` refuses one). */
const NULL_BODY_STATUSES = new Set([101, 103, 204, 205, 304]);

const agents = {
  http: new HttpAgent({ keepAlive: true, timeout: IDLE_SOCKET_MS }),
  https: new HttpsAgent({ keepAlive: true, timeout: IDLE_SOCKET_MS }),
};

export const upstreamFetch: FetchLike = (input, init = {}) => new Promise<Response>((resolve, reject) => {
  const url = typeof input === 'string' ? new URL(input) : input;
  const signal = init.signal ?? undefined;
  if (signal?.aborted) {
    reject(abortReason(signal));
    return;
  }
  if (init.body != null && typeof init.body !== 'string') {
    reject(new TypeError('upstreamFetch sends string bodies only'));
    return;
  }
  const method = init.method ?? 'GET';
  const headers: Record<string, string> = {};
  new Headers(init.headers).forEach((value, name) => {
    headers[name] = value;
  });
  // A known length lets Node send the headers and the body in one write, without chunking.
  if (init.body != null) headers['content-length'] = String(Buffer.byteLength(init.body));
  const https = url.protocol === 'https:';
  let response: IncomingMessage | undefined;
  const onAbort = () => {
    const reason = abortReason(signal!);
    request.destroy(reason);
    response?.destroy(reason);
  };
  const release = () => signal?.removeEventListener('abort', onAbort);
  const request = (https ? httpsRequest : httpRequest)(url, { method, headers, agent: https ? agents.https : agents.http }, (res) => {
    response = res;
    res.once('close', release);
    const status = res.statusCode ?? 502;
    const init = { status, statusText: res.statusMessage ?? '', headers: headersOf(res) };
    if (method === 'HEAD' || NULL_BODY_STATUSES.has(status)) resolve(new Response(drained(res), init));
    else if (method === 'POST' && res.headers['content-type']?.startsWith('text/event-stream')) void answerOfStream(res, init).then(resolve);
    else resolve(new Response(bodyOf(res), init));
  });
  signal?.addEventListener('abort', onAbort, { once: true });
  request.once('error', (error) => {
    release();
    // After the response arrived its body stream reports the error; before, the promise does.
    reject(error);
  });
  request.end(init.body ?? undefined);
});

function abortReason(signal: AbortSignal): Error {
  return signal.reason instanceof Error ? signal.reason : new DOMException('This operation was aborted', 'AbortError');
}

function headersOf(res: IncomingMessage): Headers {
  const headers = new Headers();
  const raw = res.rawHeaders;
  for (let i = 0; i < raw.length; i += 2) headers.append(raw[i]!, raw[i + 1]!);
  return headers;
}

/** Reads and drops a body that is not exposed, so the socket goes back to the pool. */
function drained(res: IncomingMessage): null {
  res.resume();
  return null;
}

/**
 * An upstream's SSE answer to a POST whose first event is the final JSON-RPC response, as that JSON
 * (the SDK's client then parses one body instead of setting up an SSE parser of web streams, which
 * was the larger part of its cost per call); anything else — a notification or a request first, an
 * event id, a first event larger than `SSE_PEEK_BYTES_MAX` — stays the stream it was, chunks already
 * read included. After a final response the server has nothing more to say on that stream.
 */
function answerOfStream(res: IncomingMessage, init: ResponseInit): Promise<Response> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const stop = () => {
      res.pause();
      res.off('data', onData);
      res.off('end', asStream);
      res.off('error', asStream);
      res.off('close', asStream);
    };
    function asStream() {
      stop();
      resolve(new Response(bodyOf(res, chunks), init));
    }
    function onData(chunk: Buffer) {
      chunks.push(chunk);
      size += chunk.length;
      const text = Buffer.concat(chunks, size).toString('utf8');
      const end = text.indexOf('\n\n');
      if (end < 0) {
        if (size > SSE_PEEK_BYTES_MAX) asStream();
        return;
      }
      const json = end + 2 === text.length ? finalResponseOf(text) : undefined;
      if (json === undefined) return asStream();
      stop();
      res.resume();
      const headers = new Headers(init.headers);
      headers.set('content-type', 'application/json');
      resolve(new Response(json, { ...init, headers }));
    }
    res.on('data', onData);
    res.once('end', asStream);
    res.once('error', asStream);
    res.once('close', asStream);
  });
}

/** The response body as a web stream (after `read`, chunks already taken), pausing the socket while the reader is behind. */
function bodyOf(res: IncomingMessage, read: readonly Buffer[] = []): ReadableStream<Uint8Array> {
  let finished = false;
  return new ReadableStream<Uint8Array>({
    start(controller) {
      for (const chunk of read) controller.enqueue(chunk);
      if (res.readableEnded || res.destroyed) {
        finished = true;
        if (res.readableEnded) controller.close();
        else controller.error(res.errored ?? new Error('The upstream closed the connection before the response ended'));
        return;
      }
      res.on('data', (chunk: Buffer) => {
        controller.enqueue(chunk);
        if ((controller.desiredSize ?? 1) <= 0) res.pause();
      });
      res.once('end', () => {
        finished = true;
        controller.close();
      });
      res.once('error', (error) => {
        if (finished) return;
        finished = true;
        controller.error(error);
      });
      res.once('close', () => {
        if (finished) return;
        finished = true;
        controller.error(new Error('The upstream closed the connection before the response ended'));
      });
    },
    pull() {
      res.resume();
    },
    cancel() {
      finished = true;
      res.destroy();
    },
  }, { highWaterMark: BODY_CHUNKS_AHEAD_MAX });
}
