/**
 * @module mcp/gateway
 * The gateway MCP server for one agent session, built on the SDK's low-level `Server` (which, unlike
 * `McpServer`, hands over the raw tool name and arguments and lets results through untouched).
 * `tools/list` = the gateway's own tools + every registered MCP service's tools the grant may use,
 * named `<service>__<tool>` with schemas unchanged and the price in `_meta["io.tollgate/price"]`.
 */
import { Server } from '@modelcontextprotocol/sdk/server/index.js';
import { CallToolRequestSchema, ListToolsRequestSchema, type Tool } from '@modelcontextprotocol/sdk/types.js';
import { formatMicros, matchesPattern, type Service } from '@tollgate/core';
import type { GatewayDeps, GatewaySession } from './deps.ts';
import { OWN_TOOL_NAMES, OWN_TOOLS, ownToolCall } from './own-tools.ts';
import { TOOL_SEPARATOR, paidToolCall, quoteTool } from './paid-call.ts';
import { META } from './results.ts';
import { mppCapability } from '@tollgate/rails/mpp';
import { carriesMppOverMcp, mppToolCall, paysWithMppOverMcp } from '../rails/mpp-mcp.ts';
import { paysWithX402OverMcp, x402ToolCall } from '../rails/x402-mcp.ts';

export const GATEWAY_INFO = { name: 'tollgate', version: '0.1.0' } as const;

export function buildGatewayServer(deps: GatewayDeps, session: GatewaySession): Server {
  const server = new Server(GATEWAY_INFO, {
    capabilities: { tools: { listChanged: true }, ...(deps.mpp ? { experimental: mppCapability(deps.mpp.intents) } : {}) },
    instructions: 'Paid tools are named <service>__<tool>; each call is charged to your Tollgate grant (see _meta "io.tollgate/price"). Send _meta "io.tollgate/idempotencyKey" to retry safely and "io.tollgate/reason" to say why.',
  });
  server.setRequestHandler(ListToolsRequestSchema, async () => ({ tools: [...OWN_TOOLS, ...(await paidTools(deps, session))] }));
  server.setRequestHandler(CallToolRequestSchema, async (request, extra) => {
    const { name } = request.params;
    if (OWN_TOOL_NAMES.has(name)) return ownToolCall(deps, session, name, (request.params.arguments ?? {}) as Record<string, unknown>);
    // A credential names its rail; without one, a grantless call goes to x402 when the service takes x402, else to MPP.
    if (carriesMppOverMcp(deps, request.params)) return mppToolCall(deps, deps.mpp!, request.params, extra);
    if (await paysWithX402OverMcp(deps, session, request.params)) return x402ToolCall(deps, request.params, extra);
    if (paysWithMppOverMcp(deps, session, request.params)) return mppToolCall(deps, deps.mpp!, request.params, extra);
    return paidToolCall(deps, session, server, request.params, extra);
  });
  const unsubscribe = deps.pool?.onToolsChanged(() => void server.sendToolListChanged().catch(() => {}));
  const onclose = server.onclose;
  server.onclose = () => {
    unsubscribe?.();
    onclose?.();
  };
  return server;
}

/** Tools of every MCP service this session's grant may call; an unreachable upstream is left out. */
async function paidTools(deps: GatewayDeps, session: GatewaySession): Promise<Tool[]> {
  const grant = session.grant;
  // Without a grant, only services that take MPP or x402 payments are listed (their calls are paid per call).
  const mpp = deps.mpp;
  if (!grant && !mpp && !deps.x402) return [];
  const paysPerCall = (s: Service) => (mpp?.accepts(s) ?? false) || (deps.x402 !== undefined && s.metadata?.x402 !== undefined);
  const services = (await deps.services.list()).filter((s) => s.kind === 'mcp' && !s.disabled && (grant ? grant.services.some((p) => matchesPattern(p, s.slug)) : paysPerCall(s)));
  const lists = await Promise.all(services.map(async (service) => {
    try {
      const resolved = await deps.services.resolve(service.slug);
      return (await deps.pool.tools(resolved)).flatMap((tool) => priced(service, tool));
    } catch {
      return [];
    }
  }));
  return lists.flat();
}

function priced(service: Service, tool: Tool): Tool[] {
  const q = quoteTool(service, tool.name);
  // A tool without a price rule cannot be called through the gateway, so it is not listed.
  if (!q) return [];
  const price = q.pricing === 'fixed'
    ? { type: 'fixed', amount: formatMicros(q.holdMicros) }
    : { type: 'per_unit', unitPrice: formatMicros(q.unitPriceMicros!), maxUnits: q.maxUnits, max: formatMicros(q.holdMicros) };
  return [{
    ...tool,
    name: `${service.slug}${TOOL_SEPARATOR}${tool.name}`,
    ...(tool.description ? { description: `${tool.description} (paid: ${q.pricing === 'fixed' ? price.amount : `${price.unitPrice} per unit`} via Tollgate)` } : {}),
    _meta: { ...(tool._meta ?? {}), [META.price]: { ...price, service: service.slug } },
  }];
}
