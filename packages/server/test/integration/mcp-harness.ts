/**
 * @module test/integration/mcp-harness
 * A gateway (see harness.ts) with the demo MCP server registered as a paid MCP service (spawned over
 * stdio by the gateway), and MCP SDK clients that connect to `/mcp` over Streamable HTTP.
 */
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { ElicitRequestSchema, type ElicitResult } from '@modelcontextprotocol/sdk/types.js';
import type { TestDatabase } from '@tollgate/core/testing';
import { mcpGatewayOf } from '../../src/mcp/index.ts';
import { demoMcpCommand } from '../../src/demo/mcp-upstream.ts';
import { startGateway, type Gateway } from './harness.ts';

export const DEMO_MCP_COMMAND = demoMcpCommand();
export const MCP_SELLER = 'sel_mcp';

export const DEMO_MCP_PRICES = [
  { path: '/count_words', type: 'per_unit' as const, unitPrice: '0.001', maxUnits: 1000, units: { from: 'json' as const, path: 'units' } },
  { path: '/**', type: 'fixed' as const, price: '0.01' },
];

export async function startMcpGateway(engine: TestDatabase): Promise<Gateway> {
  const gw = await startGateway(engine);
  await gw.built.services.create({ slug: 'demo', kind: 'mcp', mcp: { command: DEMO_MCP_COMMAND }, sellerId: MCP_SELLER, prices: DEMO_MCP_PRICES, timeoutMs: 5_000 });
  await gw.built.services.create({ slug: 'lenient', kind: 'mcp', mcp: { command: DEMO_MCP_COMMAND }, sellerId: MCP_SELLER, prices: DEMO_MCP_PRICES, chargeFailedCalls: true, timeoutMs: 500 });
  const close = gw.close;
  gw.close = async () => {
    await mcpGatewayOf(gw.tg)?.close();
    // MCP clients keep SSE streams and keep-alive sockets open; the test is over, so cut them.
    (gw.server.server as unknown as { closeAllConnections?: () => void }).closeAllConnections?.();
    await close();
  };
  return gw;
}

/** An MCP client over Streamable HTTP; `elicit` answers approval questions (omit it: no elicitation capability). */
export async function mcpClient(gw: Gateway, token: string, elicit?: (message: string) => ElicitResult): Promise<Client> {
  const client = new Client({ name: 'test-agent', version: '1.0.0' }, { capabilities: elicit ? { elicitation: {} } : {} });
  if (elicit) client.setRequestHandler(ElicitRequestSchema, async (request) => elicit(request.params.message));
  await client.connect(new StreamableHTTPClientTransport(new URL(`${gw.url}/mcp`), { requestInit: { headers: { authorization: `Bearer ${token}` } } }));
  return client;
}

/** What a seller has earned (posted credits minus debits, minus pending payouts). */
export async function earningsMicros(gw: Gateway, sellerId = MCP_SELLER): Promise<bigint> {
  const [account] = await gw.tg.ledger.lookupAccounts([`earnings:${sellerId}`]);
  return account ? account.creditsPosted - account.debitsPosted - account.debitsPending : 0n;
}
