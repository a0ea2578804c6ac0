/**
 * @module dashboard/routes
 * The admin routes the dashboard adds, declared like every admin route (so they are in the OpenAPI
 * document): public config (only whether the demo is on), the local-only demo sign-in, stream
 * tickets and the server-sent-events stream, the overview and seller aggregates, and the audit
 * chain check.
 */
import { z } from 'zod';
import { route, type RouteDef } from '../admin/route.ts';
import { orgFilter, sellerFilter, type AdminDeps } from '../admin/routes/deps.ts';
import type { ApiKeyPrincipal } from '../middleware/api-key/index.ts';
import type { ChainCheck } from './chain-check.ts';
import type { DemoSignIn } from './demo-sign-in.ts';
import { eventStream, type Topic } from './events.ts';
import type { FeedScope, LiveFeed } from './live-feed.ts';
import { overview } from './overview.ts';
import { SELLER_DAYS_MAX, sellerSeries } from './seller.ts';
import { STREAM_TICKET_TTL_MS, type StreamTickets } from './stream-tickets.ts';

/** Dashboard routes that authenticate themselves (no API key header): the api-key middleware lets them through. */
export const DASHBOARD_PUBLIC_PATHS: readonly string[] = ['/v1/dashboard/config', '/v1/dashboard/demo-session', '/v1/dashboard/events'];

export interface DashboardDeps extends AdminDeps {
  demo: DemoSignIn;
  tickets: StreamTickets;
  feed: LiveFeed;
  chain: ChainCheck;
}

const OrgQuery = z.strictObject({ orgId: z.string().min(1).max(200).optional() });
const TopicsSchema = z.string().max(100).default('calls,approvals').transform((s, ctx) => {
  const topics = new Set(s.split(',').map((t) => t.trim()).filter(Boolean));
  for (const t of topics) if (t !== 'calls' && t !== 'approvals') ctx.addIssue({ code: 'custom', message: `unknown topic ${t}: calls or approvals` });
  return topics as Set<Topic>;
});

const LimitView = z.object({ kind: z.enum(['org_monthly', 'user_monthly', 'agent_daily', 'grant_total']), ownerId: z.string(), label: z.string(), capMicros: z.string(), usedMicros: z.string(), heldMicros: z.string() });
const SpendRow = z.object({ key: z.string().nullable(), label: z.string().optional(), calls: z.number(), spentMicros: z.string() });
const OverviewView = z.object({
  orgId: z.string().nullable(), currency: z.string(), generatedAt: z.string(),
  today: z.object({ spentMicros: z.string(), calls: z.number() }),
  month: z.object({ spentMicros: z.string(), calls: z.number(), captured: z.number(), refused: z.number(), voided: z.number(), expired: z.number() }),
  byTask: z.array(SpendRow), byAgent: z.array(SpendRow), byService: z.array(SpendRow),
  daily: z.array(z.object({ day: z.string(), spentMicros: z.string(), calls: z.number() })), limits: z.array(LimitView), queryMs: z.number(),
});

function scopeOf(principal: ApiKeyPrincipal, orgId: string | undefined): FeedScope {
  if (principal.role === 'seller') return { sellerId: sellerFilter(principal) };
  return { orgId: orgFilter(principal, orgId) };
}

export function dashboardRoutes(deps: DashboardDeps): RouteDef[] {
  const { tg, demo, tickets, feed, chain } = deps;
  const open = { count: 0 };
  return [
    route({ method: 'get', path: '/v1/dashboard/config', tag: 'dashboard', summary: 'What the dashboard needs before sign-in: only whether the demo is on', roles: [], publicAuth: true,
      response: z.object({ demo: z.boolean() }), handler: async () => ({ demo: demo.enabled }) }),
    route({ method: 'post', path: '/v1/dashboard/demo-session', tag: 'dashboard', summary: 'Demo one-click sign-in: the demo admin key, only to a browser on this machine (loopback peer and Host, no proxy headers, same Origin)', roles: [], publicAuth: true,
      response: z.object({ apiKey: z.string(), role: z.literal('admin') }), handler: async ({ c }) => demo.signIn(c) }),
    route({ method: 'post', path: '/v1/dashboard/stream-tickets', tag: 'dashboard', summary: `A single-use ticket (valid ${STREAM_TICKET_TTL_MS / 1000} s) to open the event stream, which EventSource cannot send a header to`, roles: ['admin', 'buyer', 'seller'], status: 201,
      response: z.object({ ticket: z.string(), expiresAt: z.string() }), handler: async ({ principal }) => tickets.issue(principal) }),
    route({ method: 'get', path: '/v1/dashboard/events', tag: 'dashboard', summary: 'Server-sent events: `call` (each finished or refused call) and `approvals` (the pending list, on connect and on change), authenticated by a stream ticket', roles: [], publicAuth: true, produces: 'text/event-stream',
      query: z.strictObject({ ticket: z.string().min(1).max(600), topics: TopicsSchema, orgId: z.string().min(1).max(200).optional() }), handler: async ({ c, query }) => {
        const principal = await tickets.redeem(query.ticket);
        return eventStream(c, { db: tg.db, feed, principal, scope: scopeOf(principal, query.orgId), topics: query.topics, open });
      } }),
    route({ method: 'get', path: '/v1/dashboard/overview', tag: 'dashboard', summary: 'Spend today and this month, against the limits that apply; spend by task, agent and service; 30 days by day (UTC)', roles: ['admin', 'buyer'],
      query: OrgQuery, response: OverviewView, handler: async ({ query, principal }) => overview(tg, orgFilter(principal, query.orgId) ?? null) }),
    route({ method: 'get', path: '/v1/dashboard/seller', tag: 'dashboard', summary: 'Per day and service: calls, revenue, fees, errors and p50 latency (refused calls excluded)', roles: ['admin', 'seller'],
      query: z.strictObject({ sellerId: z.string().min(1).max(200).optional(), days: z.coerce.number().int().min(1).max(SELLER_DAYS_MAX).default(30) }),
      response: z.object({ from: z.string(), days: z.array(z.object({ day: z.string(), service: z.string(), calls: z.number(), errors: z.number(), revenueMicros: z.string(), feeMicros: z.string(), p50LatencyMs: z.number().nullable() })) }),
      handler: async ({ query, principal }) => sellerSeries(tg, sellerFilter(principal, query.sellerId) ?? null, query.days) }),
    route({ method: 'get', path: '/v1/audit/verify', tag: 'calls', summary: 'Whether the audit hash chain verifies (kept while the head has not moved)', roles: ['admin', 'buyer'],
      response: z.object({ ok: z.boolean(), checked: z.number(), headSeq: z.string(), problem: z.string().optional(), firstBadSeq: z.string().optional(), detail: z.string().optional(), checkedAt: z.string(), tookMs: z.number() }),
      handler: async () => chain.status() }),
  ];
}

