/**
 * @module mcp/http
 * The gateway over Streamable HTTP at `/mcp`. The grant token is the bearer; a missing or bad token
 * gets 401 with `WWW-Authenticate` before any MCP message is read. Sessions are stateful (elicited
 * approvals need the server to ask the client mid-call), bound to the token that opened them, capped
 * in number and closed when idle.
 */
import { createHash, randomUUID, timingSafeEqual } from 'node:crypto';
import { Hono } from 'hono';
import { WebStandardStreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/webStandardStreamableHttp.js';
import { DEFAULT_MAX_REQUEST_BODY_SIZE } from '@modelcontextprotocol/sdk/server/requestBody.js';
import type { Server } from '@modelcontextprotocol/sdk/server/index.js';
import { TollgateError, type ServiceRegistry, type Tollgate } from '@tollgate/core';
import { problemResponse, toTollgateError } from '../middleware/problem/index.ts';
import { JsonLinesUsageSink, PostgresUsageSink, UsageMeter, type UsageSink } from '../usage/index.ts';
import type { GatewayDeps, GatewaySession } from './deps.ts';
import { buildGatewayServer } from './gateway.ts';
import { singleAnswerAsJson } from './single-answer.ts';
import { UpstreamPool } from './upstreams.ts';

/** Most open MCP sessions per process. */
export const MCP_SESSIONS_MAX = 10_000;
/** A session unused for this long is closed (the client reconnects). */
export const MCP_SESSION_IDLE_MS = 30 * 60_000;

interface OpenSession {
  transport: WebStandardStreamableHTTPServerTransport;
  server: Server;
  session: GatewaySession;
  lastSeenMs: number;
}

export interface McpGatewayOptions extends Partial<Omit<GatewayDeps, 'tg' | 'services' | 'proxyFetch'>> {
  tg: Tollgate;
  services: ServiceRegistry;
  proxyFetch: GatewayDeps['proxyFetch'];
}

export interface McpGateway {
  routes: Hono;
  deps: GatewayDeps;
  sessionCount(): number;
  close(): Promise<void>;
}

const gateways = new Map<Tollgate, McpGateway>();

/** The usage sinks from the environment: Postgres always, plus a JSON Lines file when `TOLLGATE_USAGE_JSONL` is set. */
export function defaultUsageSink(tg: Tollgate): UsageSink {
  const file = process.env.TOLLGATE_USAGE_JSONL;
  return new UsageMeter([new PostgresUsageSink(tg.db), ...(file ? [new JsonLinesUsageSink(file)] : [])]);
}

export function createMcpGateway(options: McpGatewayOptions): McpGateway {
  const deps: GatewayDeps = { pool: new UpstreamPool(), usage: defaultUsageSink(options.tg), elicitApprovals: process.env.TOLLGATE_MCP_ELICITATION !== 'off', ...options };
  const sessions = new Map<string, OpenSession>();
  const sweep = setInterval(() => {
    const now = Date.now();
    for (const [id, open] of sessions) if (now - open.lastSeenMs > MCP_SESSION_IDLE_MS) void closeSession(sessions, id);
  }, 60_000);
  sweep.unref();
  const routes = new Hono();
  routes.all('/', async (c) => {
    try {
      return await handle(deps, sessions, c.req.raw);
    } catch (error) {
      if (!(error instanceof TollgateError)) deps.logger?.error({ err: error instanceof Error ? { message: error.message, stack: error.stack } : String(error) }, 'mcp request failed');
      return problemResponse(toTollgateError(error), c.req.path, unauthorizedHeaders(error, new URL(c.req.url).origin));
    }
  });
  const gateway: McpGateway = {
    routes, deps,
    sessionCount: () => sessions.size,
    async close() {
      clearInterval(sweep);
      await Promise.all([...sessions.keys()].map((id) => closeSession(sessions, id)));
      await deps.pool.close();
      await deps.usage.flush?.();
      gateways.delete(options.tg);
    },
  };
  gateways.set(options.tg, gateway);
  return gateway;
}

/** The gateway `createApp` mounted for this Tollgate (tests close it to stop upstream processes). */
export function mcpGatewayOf(tg: Tollgate): McpGateway | undefined {
  return gateways.get(tg);
}

/** Where the gateway's OAuth protected-resource metadata (RFC 9728) is served, under the server's origin. */
export const MCP_RESOURCE_METADATA_PATH = '/.well-known/oauth-protected-resource/mcp';

/**
 * The RFC 9728 document an MCP client reads after a 401. It names no authorization server: grant
 * tokens are issued by Tollgate's own API (`POST /v1/grants`, or the dashboard), not by an OAuth
 * flow, so a client learns here that a bearer token in the header is what it needs.
 */
export function mcpResourceMetadata(origin: string): Record<string, unknown> {
  return {
    resource: `${origin}/mcp`,
    resource_name: 'Tollgate paid MCP gateway',
    bearer_methods_supported: ['header'],
    resource_documentation: `${origin}/docs`,
  };
}

function unauthorizedHeaders(error: unknown, origin: string): Record<string, string> {
  if (!(error instanceof TollgateError) || error.status !== 401) return {};
  return { 'www-authenticate': `Bearer realm="tollgate", error="invalid_token", error_description="${error.code}", resource_metadata="${origin}${MCP_RESOURCE_METADATA_PATH}"` };
}

async function handle(deps: GatewayDeps, sessions: Map<string, OpenSession>, request: Request): Promise<Response> {
  const token = request.headers.get('authorization')?.match(/^Bearer\s+(\S+)\s*$/i)?.[1];
  // With MPP or x402 on, an agent without a grant may connect and pay those services per call (`rails/mpp-mcp.ts`, `rails/x402-mcp.ts`).
  if (!token && !deps.mpp && !deps.x402) throw new TollgateError('token_invalid', 'Send the grant token as Authorization: Bearer <token>', { header: 'Authorization' });
  const grant = token ? await deps.tg.grants.authenticate(token) : undefined;
  const sessionId = request.headers.get('mcp-session-id');
  if (sessionId) {
    const open = sessions.get(sessionId);
    // A session answers only to the token that opened it; anything else looks like an unknown session.
    if (!open || !sameToken(open.session.token, token ?? '')) {
      return new Response(JSON.stringify({ jsonrpc: '2.0', error: { code: -32001, message: 'Session not found' }, id: null }), { status: 404, headers: { 'content-type': 'application/json' } });
    }
    open.lastSeenMs = Date.now();
    open.session.grant = grant;
    return answer(open.transport, request);
  }
  if (sessions.size >= MCP_SESSIONS_MAX) throw new TollgateError('rate_limited', 'Too many open MCP sessions; retry later', { retryAfterSeconds: 30 });
  const session: GatewaySession = { token: token ?? '', grant };
  const server = buildGatewayServer(deps, session);
  const transport: WebStandardStreamableHTTPServerTransport = new WebStandardStreamableHTTPServerTransport({
    sessionIdGenerator: () => randomUUID(),
    onsessioninitialized: (id) => {
      sessions.set(id, { transport, server, session, lastSeenMs: Date.now() });
    },
    onsessionclosed: (id) => {
      void closeSession(sessions, id);
    },
  });
  await server.connect(transport);
  return answer(transport, request);
}

/** A POST's answer as one JSON body when it is only the final response (`single-answer.ts`); GET streams stay streams. */
async function answer(transport: WebStandardStreamableHTTPServerTransport, request: Request): Promise<Response> {
  if (request.method !== 'POST') return transport.handleRequest(request);
  const post = await parsedPost(request);
  return singleAnswerAsJson(await transport.handleRequest(post.request, post.parsedBody === undefined ? undefined : { parsedBody: post.parsedBody }));
}

/**
 * A POST body of declared length is read with `text()`, which @hono/node-server serves straight
 * from the socket; the transport would read `body`, which builds a whole second Request first.
 * Chunked or oversized bodies and invalid JSON go to the transport as they came, so it answers
 * them exactly as before (413, -32700).
 */
async function parsedPost(request: Request): Promise<{ request: Request; parsedBody?: unknown }> {
  const declared = request.headers.get('content-length');
  if (declared === null || !/^\d{1,10}$/.test(declared) || Number(declared) > DEFAULT_MAX_REQUEST_BODY_SIZE) return { request };
  const text = await request.text();
  try {
    return { request, parsedBody: JSON.parse(text) };
  } catch {
    return { request: new Request(request.url, { method: 'POST', headers: request.headers, body: text }) };
  }
}

/** Constant-time token comparison (both sides hashed to the same length first). */
function sameToken(a: string, b: string): boolean {
  const digest = (t: string) => createHash('sha256').update(t).digest();
  return timingSafeEqual(digest(a), digest(b));
}

async function closeSession(sessions: Map<string, OpenSession>, id: string): Promise<void> {
  const open = sessions.get(id);
  sessions.delete(id);
  await open?.server.close().catch(() => {});
}
