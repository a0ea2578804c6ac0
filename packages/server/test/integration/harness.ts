/**
 * @module test/integration/harness
 * A real gateway on 127.0.0.1:0 over a fresh database, a real upstream on 127.0.0.1:0, and a funded
 * buyer, for end-to-end tests over sockets.
 */
import { randomUUID } from 'node:crypto';
import { Hono } from 'hono';
import { openTollgate, type Tollgate, type CreateGrantInput, type CreateServiceInput } from '@tollgate/core';
import type { TestDatabase, TestDb } from '@tollgate/core/testing';
import { createApp, createLogger, startServer, type ConfigInput, type RunningServer, type TollgateApp } from '../../src/index.ts';

export const UPSTREAM_SECRET = 'sk-upstream-SECRET-do-not-leak-0123456789';

export interface Upstream {
  server: RunningServer;
  url: string;
  hits: Map<string, number>;
  /** Headers the upstream saw on its last request per path. */
  seen: Map<string, Headers>;
  close(): Promise<void>;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function startUpstream(): Promise<Upstream> {
  const hits = new Map<string, number>();
  const seen = new Map<string, Headers>();
  const app = new Hono();
  app.use('*', async (c, next) => {
    hits.set(c.req.path, (hits.get(c.req.path) ?? 0) + 1);
    seen.set(c.req.path, new Headers(c.req.raw.headers));
    await next();
  });
  app.all('/fixed', (c) => c.json({ ok: true, credential: c.req.header('x-upstream-key') === UPSTREAM_SECRET, authorization: c.req.header('authorization') ?? null }));
  app.get('/slow', async (c) => {
    await sleep(Number(c.req.query('ms') ?? '1000'));
    return c.json({ slow: true });
  });
  app.get('/fail', (c) => c.json({ error: 'boom' }, 500));
  app.get('/missing', (c) => c.json({ error: 'nope' }, 404));
  app.get('/leak', (c) => {
    c.header('x-echo', `key=${c.req.header('x-upstream-key')}`);
    return c.json({ ok: true });
  });
  app.get('/sse', (c) => {
    const ticks = Number(c.req.query('n') ?? '5');
    const gapMs = Number(c.req.query('gap') ?? '150');
    const body = new ReadableStream<Uint8Array>({
      async start(controller) {
        for (let i = 1; i <= ticks; i++) {
          controller.enqueue(new TextEncoder().encode(`data: ${i}\n\n`));
          if (i < ticks) await sleep(gapMs);
        }
        controller.close();
      },
    });
    return new Response(body, { headers: { 'content-type': 'text/event-stream' } });
  });
  app.post('/usage-header', (c) => {
    c.header('x-units', c.req.query('units') ?? '3');
    return c.json({ ok: true });
  });
  app.post('/usage-json', async (c) => {
    const body = (await c.req.json().catch(() => ({}))) as { units?: number };
    return c.json({ ok: true, usage: { units: body.units ?? 7 } });
  });
  app.post('/upload', async (c) => {
    let bytes = 0;
    const reader = c.req.raw.body!.getReader();
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      bytes += value.byteLength;
    }
    return c.json({ bytes });
  });
  const server = await startServer(app as never, { host: '127.0.0.1', port: 0 });
  return { server, url: server.url, hits, seen, close: () => server.close() };
}

export interface Buyer {
  orgId: string;
  userId: string;
  agentId: string;
}

export interface Gateway {
  db: TestDb;
  tg: Tollgate;
  built: TollgateApp;
  server: RunningServer;
  url: string;
  upstream: Upstream;
  logs: string[];
  /** Added to the real time the gateway sees (move it forward to expire things). */
  clock: { offsetMs: number };
  buyer(options?: { funds?: string }): Promise<Buyer>;
  grant(buyer: Buyer, input?: Partial<CreateGrantInput>): Promise<string>;
  service(input: Partial<CreateServiceInput> & { slug: string }): Promise<void>;
  adminKey(): Promise<string>;
  close(): Promise<void>;
}

/** The upstream's routes with their prices (one service covers them all). */
export const DEFAULT_PRICES: CreateServiceInput['prices'] = [
  { method: 'POST', path: '/usage-header', type: 'per_unit', unitPrice: '0.001', maxUnits: 100, units: { from: 'header', name: 'x-units' } },
  { method: 'POST', path: '/usage-json', type: 'per_unit', unitPrice: '0.001', maxUnits: 100, units: { from: 'json', path: 'usage.units' } },
  { method: '*', path: '/**', type: 'fixed', price: '0.01' },
];

export async function startGateway(engine: TestDatabase, config: ConfigInput = {}, options: { defaultService?: boolean } = {}): Promise<Gateway> {
  const db = await engine.open();
  const clock = { offsetMs: 0 };
  const tg = await openTollgate({ db, now: () => new Date(Date.now() + clock.offsetMs) });
  const logs: string[] = [];
  const logger = createLogger({ level: 'info', destination: { write: (line: string) => void logs.push(line) } });
  const built = createApp({ tg, config: { allowLoopbackUpstreams: true, sweepIntervalSeconds: 0, ...config }, logger });
  const server = await startServer(built.app);
  const upstream = await startUpstream();
  const gateway: Gateway = {
    db, tg, built, server, url: server.url, upstream, logs, clock,
    async buyer(options = {}) {
      const org = await tg.principals.createOrg({ name: 'Acme' });
      const user = await tg.principals.createUser({ orgId: org.id, name: 'Ada' });
      const agent = await tg.principals.createAgent({ userId: user.id, name: 'agent', trustLevel: 2 });
      await tg.wallets.topUp({ ownerId: user.id, amount: options.funds ?? '100.00', reference: `seed-${randomUUID()}` });
      return { orgId: org.id, userId: user.id, agentId: agent.id };
    },
    async grant(buyer, input = {}) {
      return (await tg.grants.create({ userId: buyer.userId, totalCap: '10.00', services: ['*'], ...input })).token;
    },
    async service(input) {
      await built.services.create({ baseUrl: upstream.url, sellerId: 'sel_test', prices: DEFAULT_PRICES, credentials: { headers: { 'x-upstream-key': UPSTREAM_SECRET } }, ...input });
    },
    async adminKey() {
      return (await built.apiKeys.create({ name: 'test admin', role: 'admin' })).secret;
    },
    async close() {
      await server.close();
      await upstream.close();
      await tg.close();
      await db.close();
    },
  };
  if (options.defaultService !== false) await gateway.service({ slug: 'up' });
  return gateway;
}

/** Waits until `check` passes or `timeoutMs` elapses (for effects that land after a response). */
export async function eventually(check: () => Promise<void> | void, timeoutMs = 3000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      await check();
      return;
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await sleep(25);
    }
  }
}
