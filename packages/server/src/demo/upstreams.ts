/**
 * @module demo/upstreams
 * The demo's paid services, served by the same process on 127.0.0.1 so the demo needs no internet.
 * Each checks the upstream credential the gateway injects, so the demo also shows that agents never
 * hold the seller's key.
 *
 * - `GET /search?q=`: cheap, fixed price.
 * - `POST /echo`: echoes the JSON body (never the headers).
 * - `POST /summarize`: usage-priced; reports `usage.units` in the JSON body and `X-Units`.
 * - `GET /stream`: slow server-sent events, one tick every `tickMs`.
 * - `POST /research`: expensive; the demo grant asks a person before paying for it.
 */
import { Hono } from 'hono';

export const DEMO_CREDENTIAL_HEADER = 'x-demo-upstream-key';

export interface DemoUpstreamOptions {
  /** The credential the gateway must send. */
  credential: string;
  tickMs?: number;
  ticks?: number;
}

export function demoUpstreamApp(options: DemoUpstreamOptions): Hono {
  const { credential, tickMs = 400, ticks = 5 } = options;
  const app = new Hono();
  app.use('*', async (c, next) => {
    if (c.req.header(DEMO_CREDENTIAL_HEADER) !== credential) return c.json({ error: 'missing or wrong upstream credential (call through Tollgate)' }, 401);
    await next();
  });
  app.get('/search', (c) => {
    const q = (c.req.query('q') ?? '').slice(0, 200);
    return c.json({ query: q, results: [1, 2, 3].map((i) => ({ title: `Result ${i} for "${q}"`, url: `https://example.com/${encodeURIComponent(q)}/${i}` })) });
  });
  app.post('/echo', async (c) => c.json({ echo: await c.req.json().catch(() => null) }));
  app.post('/summarize', async (c) => {
    const body = (await c.req.json().catch(() => ({}))) as { text?: unknown };
    const text = typeof body.text === 'string' ? body.text : '';
    const words = text.split(/\s+/).filter(Boolean);
    // One unit per word read, at least one: a small text costs far less than the hold.
    const units = Math.max(1, Math.min(words.length, 2000));
    c.header('x-units', String(units));
    return c.json({ summary: words.slice(0, 12).join(' ') + (words.length > 12 ? ' …' : ''), usage: { units } });
  });
  app.get('/stream', (c) => {
    const stream = new ReadableStream<Uint8Array>({
      async start(controller) {
        const encoder = new TextEncoder();
        for (let i = 1; i <= ticks; i++) {
          controller.enqueue(encoder.encode(`event: tick\ndata: {"tick":${i},"of":${ticks}}\n\n`));
          if (i < ticks) await new Promise((r) => setTimeout(r, tickMs));
        }
        controller.close();
      },
    });
    return new Response(stream, { headers: { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' } });
  });
  app.post('/research', async (c) => c.json({ report: 'A long, expensive research report.', pages: 42 }));
  return app;
}
