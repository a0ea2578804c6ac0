/**
 * @module dashboard
 * The web dashboard's server side: the built bundle at `/`, and the admin routes it adds (stream
 * tickets, the live event stream, aggregates, the demo sign-in). See README.md.
 */
import type { AdminDeps } from '../admin/routes/deps.ts';
import type { RouteDef } from '../admin/route.ts';
import { ChainCheck } from './chain-check.ts';
import { DemoSignIn } from './demo-sign-in.ts';
import { LiveFeed } from './live-feed.ts';
import { dashboardRoutes } from './routes.ts';
import { StreamTickets } from './stream-tickets.ts';

export { dashboardAssets, ensureDashboardBuilt, dashboardStale, DASHBOARD_DIR, type BuildResult } from './bundle.ts';
export { DASHBOARD_PUBLIC_PATHS } from './routes.ts';
export { DemoSignIn, isLoopbackAddress } from './demo-sign-in.ts';
export { LiveFeed, type FeedCall, type FeedApproval } from './live-feed.ts';
export { StreamTickets, STREAM_TICKET_TTL_MS } from './stream-tickets.ts';
export { overview, spendGroups, type Overview } from './overview.ts';
export { seedCalls, type SeedCallsOptions } from './seed-calls.ts';

export interface Dashboard {
  routes: RouteDef[];
  demo: DemoSignIn;
  feed: LiveFeed;
  /** Ends open event streams and stops polling (before the HTTP server closes). */
  close(): Promise<void>;
}

export function createDashboard(deps: AdminDeps & { onError?: (error: unknown) => void }): Dashboard {
  const demo = new DemoSignIn();
  const feed = new LiveFeed(deps.tg.db, deps.onError ? { onError: deps.onError } : {});
  const routes = dashboardRoutes({ ...deps, demo, feed, tickets: new StreamTickets(deps.tg.db), chain: new ChainCheck(deps.tg) });
  return { routes, demo, feed, close: () => feed.close() };
}
