/**
 * @module @tollgate/provider
 * Seller-side SDK: charge per call on your own MCP server (`createPaidTools`) or Hono routes
 * (`paidRoute`), against a Tollgate server that holds the buyers' money. Depends on nothing of
 * Tollgate's at runtime; `@modelcontextprotocol/sdk` and `hono` are peers.
 */
export { ProviderClient, ProviderError, PROVIDER_TIMEOUT_MS_DEFAULT, type ProviderClientOptions, type AuthorizeInput, type AuthorizeAnswer, type SettleInput, type SettleAnswer } from './client.ts';
export { createPaidTools, type PaidTools, type PaidToolsOptions, type ToolPrice, type Receipt } from './mcp.ts';
export { paidRoute, type PaidRouteOptions } from './hono.ts';
export { paidExpressRoute, type ExpressMiddleware } from './express.ts';
export { perUnit, priceToMicros, microsToPrice } from './money.ts';
