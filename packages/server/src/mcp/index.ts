/**
 * @module mcp
 * The paid MCP gateway: Streamable HTTP at `/mcp` (`createMcpGateway`) and stdio (`serveMcpStdio`).
 */
export { createMcpGateway, mcpGatewayOf, defaultUsageSink, mcpResourceMetadata, MCP_RESOURCE_METADATA_PATH, MCP_SESSIONS_MAX, MCP_SESSION_IDLE_MS, type McpGateway, type McpGatewayOptions } from './http.ts';
export { buildGatewayServer, GATEWAY_INFO } from './gateway.ts';
export { UpstreamPool, UPSTREAM_TOOLS_MAX } from './upstreams.ts';
export { META, META_PREFIX } from './results.ts';
export { TOOL_SEPARATOR, splitToolName } from './paid-call.ts';
export type { GatewayDeps, GatewaySession } from './deps.ts';
