/**
 * @module mcp/stdio
 * The gateway over stdio, for MCP clients that spawn a command (Claude Desktop, Cursor, `npx`).
 *
 * - `TOLLGATE_URL` set: a bridge to that server's `/mcp`. Every JSON-RPC message is relayed both
 *   ways unchanged, so elicitation, progress and cancellation behave as over HTTP, and the server
 *   keeps the database (the embedded PGlite allows one process only).
 * - Otherwise: the gateway runs in this process on `TOLLGATE_DATABASE_URL` (Postgres recommended).
 * - No `TOLLGATE_TOKEN`: only `setup` answers usefully (it says how to get a token).
 * stdout carries MCP messages only; logs go to stderr.
 */
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { isInitializeRequest, type JSONRPCMessage } from '@modelcontextprotocol/sdk/types.js';
import { openDb, openTollgate, type Tollgate } from '@tollgate/core';
import { createApp } from '../app.ts';
import { createLogger } from '../logger.ts';
import type { GatewayDeps } from './deps.ts';
import { buildGatewayServer } from './gateway.ts';
import { mcpGatewayOf } from './http.ts';

export interface McpStdioOptions {
  token: string | undefined;
  /** A Tollgate server to bridge to. */
  url?: string;
  /** The database to open when not bridging. */
  databaseUrl: string;
}

export async function serveMcpStdio(options: McpStdioOptions): Promise<void> {
  if (!options.token) return serveWithoutToken();
  if (options.url) return bridge(options.url, options.token);
  return serveInProcess(options.databaseUrl, options.token);
}

async function serveWithoutToken(): Promise<void> {
  // Only `setup` reads no state; the deps are never touched without a grant.
  const server = buildGatewayServer({} as GatewayDeps, { token: '', grant: undefined });
  await server.connect(new StdioServerTransport());
}

async function bridge(url: string, token: string): Promise<void> {
  const remote = new StreamableHTTPClientTransport(new URL(`${url.replace(/\/+$/, '')}/mcp`), { requestInit: { headers: { authorization: `Bearer ${token}` } } });
  const local = new StdioServerTransport();
  const initializeIds = new Set<string | number>();
  const fail = (error: unknown) => process.stderr.write(`tollgate mcp: ${error instanceof Error ? error.message : String(error)}\n`);
  local.onmessage = (message: JSONRPCMessage) => {
    if (isInitializeRequest(message) && 'id' in message && message.id !== undefined) initializeIds.add(message.id);
    remote.send(message).catch((error: unknown) => {
      fail(error);
      // A request that could not be relayed is answered, so the client does not wait forever.
      if ('id' in message && 'method' in message && message.id !== undefined) void local.send({ jsonrpc: '2.0', id: message.id, error: { code: -32603, message: `Tollgate at ${url} is unreachable or refused the token` } });
    });
  };
  remote.onmessage = (message: JSONRPCMessage) => {
    // Later HTTP requests must carry the negotiated protocol version.
    if ('id' in message && 'result' in message && message.id !== undefined && initializeIds.delete(message.id)) {
      const version = (message.result as { protocolVersion?: string }).protocolVersion;
      if (version) remote.setProtocolVersion(version);
    }
    void local.send(message);
  };
  remote.onerror = fail;
  local.onclose = () => void remote.terminateSession().catch(() => {}).finally(() => process.exit(0));
  await remote.start();
  await local.start();
}

async function serveInProcess(databaseUrl: string, token: string): Promise<void> {
  const db = await openDb(databaseUrl);
  const tg: Tollgate = await openTollgate({ db });
  createApp({ tg, logger: createLogger({ level: 'warn', destination: process.stderr }) });
  const deps = mcpGatewayOf(tg)!.deps;
  const grant = await tg.grants.authenticate(token).catch(() => undefined);
  const server = buildGatewayServer(deps, { token, grant });
  const transport = new StdioServerTransport();
  transport.onclose = () => void mcpGatewayOf(tg)?.close().then(() => tg.close()).finally(() => process.exit(0));
  await server.connect(transport);
}
