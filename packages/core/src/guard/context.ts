/**
 * @module guard/context
 * Loads, in one query, every configured limit that applies to a call (user, project and org
 * months, the per-user service limit, the agent's trust tier) and turns it into a LimitContext.
 */
import type { Db } from '../db/db.ts';
import type { Grant } from '../grants/grants.ts';
import { parseMicros } from '../money.ts';
import type { OrgSettings } from '../principals/schemas.ts';
import type { LimitContext } from './hold-chain.ts';
import type { CallRequest } from './types.ts';
import { TtlCache } from '../batching/ttl-cache.ts';
import { configEpoch } from '../batching/config-epoch.ts';

/** Default daily spend per agent by trust level (0, 1, 2), in currency units. */
export const AGENT_DAILY_TIERS_DEFAULT = ['10', '1000', '50000'] as const;
export const HOLD_TIMEOUT_SECONDS_DEFAULT = 300;
export const FEE_BASIS_POINTS_DEFAULT = 0;

export interface CallContext {
  limits: LimitContext;
  settings: OrgSettings;
  currency: string;
  projectId: string | null;
  agentId: string | null;
  taskId: string | null;
  feeBasisPoints: number;
}

interface ContextRow {
  currency: string;
  settings: OrgSettings;
  user_limit: bigint | null;
  project_id: string | null;
  project_limit: bigint | null;
  org_limit: bigint | null;
  service_limit: bigint | null;
  trust_level: number | null;
}

/**
 * How long a call's limit configuration is reused at most; a changed limit applies within
 * `CONFIG_FRESH_MS` (batching/config-epoch.ts).
 */
export const CONTEXT_CACHE_MS = 60_000;
const configCache = new WeakMap<Db, TtlCache<ContextRow>>();

export async function loadCallContext(db: Db, lineage: readonly Grant[], request: CallRequest, now: Date): Promise<CallContext> {
  const grant = lineage[0]!;
  const agentId = grant.agentId ?? request.agentId ?? null;
  let cache = configCache.get(db);
  if (!cache) configCache.set(db, (cache = new TtlCache<ContextRow>({ ttlMs: CONTEXT_CACHE_MS, entriesMax: 50_000, generations: configEpoch(db) })));
  const row = await cache.load(`${grant.id}|${request.service.id}|${agentId ?? ''}`, () => loadConfig(db, grant, request.service.id, agentId));
  const settings = row.settings ?? {};
  const tiers = settings.agentDailyTiers ?? AGENT_DAILY_TIERS_DEFAULT;
  const agentDailyMicros = agentId === null ? null : parseMicros(tiers[row.trust_level ?? 0] ?? tiers[0], { field: 'agentDailyTiers' });
  return {
    settings,
    currency: row.currency,
    projectId: row.project_id,
    agentId,
    taskId: request.taskId ?? grant.taskId,
    feeBasisPoints: settings.feeBasisPoints ?? FEE_BASIS_POINTS_DEFAULT,
    limits: {
      now,
      lineage,
      userId: grant.userId,
      projectId: row.project_id,
      orgId: grant.orgId,
      serviceId: request.service.id,
      agentId,
      userMonthlyMicros: row.user_limit,
      projectMonthlyMicros: row.project_limit,
      orgMonthlyMicros: row.org_limit,
      serviceMonthlyMicros: row.service_limit,
      agentDailyMicros,
      freeCallsPerMonth: request.service.freeCallsPerMonth,
      walletOwnerId: grant.subject === 'user' ? grant.userId : grant.orgId,
      holdTimeoutSeconds: settings.holdTimeoutSeconds ?? HOLD_TIMEOUT_SECONDS_DEFAULT,
    },
  };
}

async function loadConfig(db: Db, grant: Grant, serviceId: string, agentId: string | null): Promise<ContextRow> {
  const [row] = await db.query<ContextRow>(
    `SELECT o.currency, o.settings, u.monthly_limit_micros AS user_limit, p.id AS project_id, p.monthly_limit_micros AS project_limit,
            o.monthly_limit_micros AS org_limit, sl.per_user_monthly_limit_micros AS service_limit, a.trust_level
       FROM users u JOIN orgs o ON o.id = u.org_id
       LEFT JOIN projects p ON p.id = coalesce($2, u.project_id)
       LEFT JOIN service_limits sl ON sl.org_id = o.id AND sl.service_id = $3
       LEFT JOIN agents a ON a.id = $4 AND a.user_id = u.id
      WHERE u.id = $1`,
    [grant.userId, grant.projectId, serviceId, agentId],
  );
  if (!row) throw new Error(`grant ${grant.id} points at a missing user ${grant.userId}`);
  return row;
}
