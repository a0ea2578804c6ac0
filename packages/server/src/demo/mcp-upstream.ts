/**
 * @module demo/mcp-upstream
 * A small MCP server used as a paid upstream by the demo, the tests and the bench: `echo` (fixed
 * price), `slow` (reports progress, honours cancellation), `fail` (answers `isError`),
 * `count_words` (usage: returns its units in `structuredContent.units`), `add_tool` (changes the
 * tool list at runtime, so list_changed forwarding can be seen).
 *
 * Run it over stdio (`tsx mcp-upstream.ts`) or over Streamable HTTP (`tsx mcp-upstream.ts --http 0`,
 * which prints `listening <url>` on stdout). It is its own process, as a seller's server would be.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { fileURLToPath } from 'node:url';
import type { ServiceRegistry } from '@tollgate/core';
import { z } from 'zod';

const sleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve, reject) => {
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener('abort', () => {
      clearTimeout(timer);
      reject(new Error('cancelled'));
    }, { once: true });
  });

/** One server instance per connection (stdio) or per HTTP request (stateless HTTP). */
export function buildDemoMcpServer(): McpServer {
  const server = new McpServer({ name: 'tollgate-demo-mcp', version: '0.1.0' });
  server.registerTool('echo', {
    description: 'Echoes the text back',
    inputSchema: { text: z.string().max(10_000) },
  }, async ({ text }) => ({ content: [{ type: 'text', text }], structuredContent: { text } }));
  server.registerTool('slow', {
    description: 'Waits `steps` × `stepMs`, reporting progress after each step',
    inputSchema: { steps: z.number().int().min(1).max(100).default(3), stepMs: z.number().int().min(1).max(10_000).default(100) },
  }, async ({ steps, stepMs }, extra) => {
    const token = extra._meta?.progressToken;
    for (let i = 1; i <= steps; i++) {
      await sleep(stepMs, extra.signal);
      if (token !== undefined) await extra.sendNotification({ method: 'notifications/progress', params: { progressToken: token, progress: i, total: steps, message: `step ${i}` } });
    }
    return { content: [{ type: 'text', text: `done after ${steps} steps` }] };
  });
  server.registerTool('fail', {
    description: 'Always answers with a tool error',
    inputSchema: { why: z.string().max(1000).optional() },
  }, async ({ why }) => ({ isError: true, content: [{ type: 'text', text: `failed: ${why ?? 'on purpose'}` }] }));
  server.registerTool('count_words', {
    description: 'Counts words; usage-priced per word',
    inputSchema: { text: z.string().max(100_000) },
  }, async ({ text }) => {
    const units = text.split(/\s+/).filter(Boolean).length;
    return { content: [{ type: 'text', text: `${units} words` }], structuredContent: { units } };
  });
  server.registerTool('add_tool', {
    description: 'Adds a tool named `name` that answers "hello"; clients get notifications/tools/list_changed',
    inputSchema: { name: z.string().regex(/^[a-z_]{1,40}$/) },
  }, async ({ name }) => {
    server.registerTool(name, { description: 'Added at runtime' }, async () => ({ content: [{ type: 'text', text: 'hello' }] }));
    return { content: [{ type: 'text', text: `added ${name}` }] };
  });
  return server;
}

/** Serves the demo MCP server over stateless Streamable HTTP on 127.0.0.1:`port`. */
export async function serveDemoMcpHttp(port: number): Promise<{ url: string; close(): Promise<void> }> {
  const http = createServer(async (req, res) => {
    if (req.url !== '/mcp') {
      res.writeHead(404).end();
      return;
    }
    const server = buildDemoMcpServer();
    const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined, enableJsonResponse: false });
    res.on('close', () => {
      void transport.close();
      void server.close();
    });
    await server.connect(transport);
    await transport.handleRequest(req, res);
  });
  await new Promise<void>((resolve) => http.listen(port, '127.0.0.1', resolve));
  const { port: bound } = http.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${bound}/mcp`,
    close: () => new Promise<void>((resolve) => {
      http.closeAllConnections();
      http.close(() => resolve());
    }),
  };
}

/** How the gateway spawns this server: node with tsx, both by absolute path, so any cwd works. */
export function demoMcpCommand(): string[] {
  return [process.execPath, '--import', import.meta.resolve('tsx'), fileURLToPath(import.meta.url)];
}

/** Registers (or refreshes) the demo MCP service `demo-mcp`: echo 0.001, count_words 0.0001 per word, the rest 0.01. */
export async function ensureDemoMcpService(services: ServiceRegistry, sellerId: string): Promise<void> {
  const mcp = { command: demoMcpCommand() };
  await services.create({
    slug: 'demo-mcp', kind: 'mcp', name: 'Demo MCP server (echo, slow, fail, count_words)', category: 'demo', sellerId, mcp,
    prices: [
      { path: '/echo', type: 'fixed', price: '0.001' },
      { path: '/count_words', type: 'per_unit', unitPrice: '0.0001', maxUnits: 10_000, units: { from: 'json', path: 'units' } },
      { path: '/**', type: 'fixed', price: '0.01' },
    ],
  }).catch(() => services.update('demo-mcp', { mcp }));
}

const isMain = process.argv[1] && import.meta.url.endsWith(process.argv[1].split('/').pop()!);
if (isMain) {
  const httpAt = process.argv.indexOf('--http');
  if (httpAt >= 0) {
    const { url } = await serveDemoMcpHttp(Number(process.argv[httpAt + 1] ?? '0'));
    process.stdout.write(`listening ${url}\n`);
  } else {
    // The parent closing our stdin means the connection is over: exit at once rather than wait to be killed.
    process.stdin.on('end', () => process.exit(0));
    await buildDemoMcpServer().connect(new StdioServerTransport());
  }
}
