/**
 * @module admin
 * The admin API under `/v1`: every route declared once (route.ts) and documented from the same
 * declarations (openapi.ts).
 */
import type { RouteDef } from './route.ts';
import type { AdminDeps } from './routes/deps.ts';
import { analyticsRoutes } from './routes/analytics.ts';
import { apiKeyRoutes } from './routes/api-keys.ts';
import { approvalRoutes } from './routes/approvals.ts';
import { callRoutes } from './routes/calls.ts';
import { grantRoutes } from './routes/grants.ts';
import { principalRoutes } from './routes/principals.ts';
import { serviceRoutes } from './routes/services.ts';
import { walletRoutes } from './routes/wallets.ts';

export { registerRoutes, route, type RouteDef } from './route.ts';
export { openApiDocument, docsPage } from './openapi.ts';
export type { AdminDeps } from './routes/deps.ts';

export function adminRoutes(deps: AdminDeps): RouteDef[] {
  return [
    ...principalRoutes(deps),
    ...walletRoutes(deps),
    ...serviceRoutes(deps),
    ...grantRoutes(deps),
    ...approvalRoutes(deps),
    ...callRoutes(deps),
    ...analyticsRoutes(deps),
    ...apiKeyRoutes(deps),
  ];
}
