/**
 * @module dashboard/overview
 * The buyer's overview in two database round trips: (1) ONE scan of the org's audit records since
 * the earlier of the month's start and 30 days ago, grouped with GROUPING SETS into spend per task,
 * agent, service and day plus the month's totals by outcome, each dimension cut to its top rows in
 * SQL; (2) the limit accounts that apply (org and user monthly, each agent's daily tier) read from
 * the ledger, which is where limits are enforced. The scan is served by `audit_records_org_created`
 * (migration 006), which carries every column the query reads, so PostgreSQL can answer it from the
 * index alone. "Today" and "this month" are UTC, as the guard's limit periods are.
 */
import { AGENT_DAILY_TIERS_DEFAULT, accountId, parseMicros, type Tollgate } from '@tollgate/core';

const DAY_MS = 24 * 3600 * 1000;
/** Rows kept per breakdown (task, agent, service). */
export const BREAKDOWN_ROWS_MAX = 8;
/** Days in the daily series. */
export const SERIES_DAYS = 30;
/** Agents whose daily limits are shown. */
const AGENTS_MAX = 50;
/** Active grants whose caps are shown (the newest); the grants page lists them all. */
const GRANTS_SHOWN_MAX = 5;

export interface SpendRow {
  key: string | null;
  /** A readable name for the key (an agent's name), when there is one. */
  label?: string;
  calls: number;
  spentMicros: string;
}

export interface LimitView {
  kind: 'org_monthly' | 'user_monthly' | 'agent_daily' | 'grant_total';
  /** The org, user or agent the limit belongs to. */
  ownerId: string;
  label: string;
  capMicros: string;
  usedMicros: string;
  heldMicros: string;
}

export interface Overview {
  orgId: string | null;
  currency: string;
  generatedAt: string;
  today: { spentMicros: string; calls: number };
  month: { spentMicros: string; calls: number; captured: number; refused: number; voided: number; expired: number };
  byTask: SpendRow[];
  byAgent: SpendRow[];
  byService: SpendRow[];
  daily: { day: string; spentMicros: string; calls: number }[];
  limits: LimitView[];
  /** How long the aggregation query took in the database, for the bench and the page footer. */
  queryMs: number;
}

interface GroupRow {
  dim: 'task' | 'agent' | 'service' | 'day' | 'total';
  key: string | null;
  calls: bigint;
  month_calls: bigint;
  month_spent: bigint | null;
  spent: bigint | null;
  captured: bigint;
  refused: bigint;
  voided: bigint;
  expired: bigint;
}

function monthStart(now: Date): Date {
  return new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), 1));
}

function dayStart(now: Date): Date {
  return new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate()));
}

/** The grouped spend query (exported for the bench, which times it alone). */
export async function spendGroups(tg: Tollgate, orgId: string | null, now: Date): Promise<GroupRow[]> {
  const month = monthStart(now);
  const seriesFrom = new Date(dayStart(now).getTime() - (SERIES_DAYS - 1) * DAY_MS);
  const from = month < seriesFrom ? month : seriesFrom;
  // Breakdowns count the month; the series counts its 30 days; `total` carries the month's outcomes.
  return tg.db.query<GroupRow>(
    `SELECT dim, key, calls, month_calls, month_spent, spent, captured, refused, voided, expired FROM (
       SELECT CASE WHEN GROUPING(task_id) = 0 THEN 'task' WHEN GROUPING(agent_id) = 0 THEN 'agent'
                   WHEN GROUPING(service) = 0 THEN 'service' WHEN GROUPING(day) = 0 THEN 'day' ELSE 'total' END AS dim,
              coalesce(task_id, agent_id, service, to_char(day, 'YYYY-MM-DD')) AS key,
              count(*) AS calls,
              count(*) FILTER (WHERE created_at >= $2) AS month_calls,
              sum(captured_micros) FILTER (WHERE created_at >= $2) AS month_spent,
              sum(captured_micros) AS spent,
              count(*) FILTER (WHERE outcome = 'captured' AND created_at >= $2) AS captured,
              count(*) FILTER (WHERE outcome = 'refused' AND created_at >= $2) AS refused,
              count(*) FILTER (WHERE outcome = 'voided' AND created_at >= $2) AS voided,
              count(*) FILTER (WHERE outcome = 'expired' AND created_at >= $2) AS expired,
              row_number() OVER (PARTITION BY GROUPING(task_id, agent_id, service, day)
                                 ORDER BY sum(captured_micros) FILTER (WHERE created_at >= $2) DESC NULLS LAST, count(*) DESC) AS rank
         FROM (SELECT task_id, agent_id, service, outcome, captured_micros, created_at,
                      date_trunc('day', created_at AT TIME ZONE 'UTC') AS day
                 FROM audit_records
                WHERE created_at >= $1 AND created_at < $3 AND ($4::text IS NULL OR org_id = $4)) scoped
        GROUP BY GROUPING SETS ((task_id), (agent_id), (service), (day), ())
     ) grouped
     WHERE dim IN ('day', 'total') OR rank <= $5`,
    [from, month, new Date(now.getTime() + 60_000), orgId, BREAKDOWN_ROWS_MAX],
  );
}

function spendRows(rows: GroupRow[], dim: GroupRow['dim']): SpendRow[] {
  return rows
    .filter((r) => r.dim === dim && BigInt(r.month_calls) > 0n)
    .sort((a, b) => (BigInt(b.month_spent ?? 0) > BigInt(a.month_spent ?? 0) ? 1 : BigInt(b.month_spent ?? 0) < BigInt(a.month_spent ?? 0) ? -1 : 0))
    .map((r) => ({ key: r.key, calls: Number(r.month_calls), spentMicros: String(r.month_spent ?? 0n) }));
}

function dailySeries(rows: GroupRow[], now: Date): Overview['daily'] {
  const byDay = new Map(rows.filter((r) => r.dim === 'day').map((r) => [r.key, r]));
  const out: Overview['daily'] = [];
  for (let i = SERIES_DAYS - 1; i >= 0; i--) {
    const day = new Date(dayStart(now).getTime() - i * DAY_MS).toISOString().slice(0, 10);
    const row = byDay.get(day);
    out.push({ day, spentMicros: String(row?.spent ?? 0n), calls: Number(row?.calls ?? 0n) });
  }
  return out;
}

/** The limits that apply to the org's spending now, with what they have used and held. */
export async function applicableLimits(tg: Tollgate, orgId: string, now: Date): Promise<LimitView[]> {
  const org = await tg.principals.getOrg(orgId);
  const users = await tg.principals.listUsers(orgId);
  const agents = await tg.db.query<{ id: string; name: string; trust_level: number }>(
    'SELECT a.id, a.name, a.trust_level FROM agents a JOIN users u ON u.id = a.user_id WHERE u.org_id = $1 ORDER BY a.created_at LIMIT $2',
    [orgId, AGENTS_MAX],
  );
  const month = now.toISOString().slice(0, 7);
  const day = now.toISOString().slice(0, 10);
  const tiers = (org.settings as { agentDailyTiers?: readonly string[] }).agentDailyTiers ?? AGENT_DAILY_TIERS_DEFAULT;
  const wanted: (Omit<LimitView, 'usedMicros' | 'heldMicros' | 'capMicros'> & { account: string; capMicros: bigint })[] = [];
  if (org.monthlyLimitMicros !== null) wanted.push({ kind: 'org_monthly', ownerId: org.id, label: `${org.name} this month`, account: accountId.limit('org_monthly', org.id, month), capMicros: BigInt(org.monthlyLimitMicros) });
  for (const user of users) {
    if (user.monthlyLimitMicros !== null) wanted.push({ kind: 'user_monthly', ownerId: user.id, label: `${user.name} this month`, account: accountId.limit('user_monthly', user.id, month), capMicros: BigInt(user.monthlyLimitMicros) });
  }
  for (const agent of agents) {
    const tier = tiers[agent.trust_level] ?? tiers[0] ?? '0';
    wanted.push({ kind: 'agent_daily', ownerId: agent.id, label: `${agent.name} today`, account: accountId.limit('agent_daily', agent.id, day), capMicros: parseMicros(tier, { field: 'agentDailyTiers' }) });
  }
  const usage = await tg.limitBook.usage(wanted.map((w) => w.account));
  // A limit account opens with the first hold of its period; until then nothing is used.
  const limits: LimitView[] = wanted.map(({ account, capMicros, ...w }) => {
    const u = usage.get(account);
    return { ...w, capMicros: String(u?.capMicros ?? capMicros), usedMicros: String(u?.usedMicros ?? 0n), heldMicros: String(u?.heldMicros ?? 0n) };
  });
  const grants = await tg.grants.list({ orgId, status: 'active', limit: GRANTS_SHOWN_MAX });
  for (const g of grants) {
    limits.push({ kind: 'grant_total', ownerId: g.id, label: `Grant ${g.tag ?? g.taskId ?? g.id}`, capMicros: String(g.totalCapMicros), usedMicros: String(g.spentMicros), heldMicros: String(g.heldMicros) });
  }
  return limits;
}

/** Agents' names for the agent breakdown (ids are what the audit records keep). */
async function withAgentNames(tg: Tollgate, rows: SpendRow[]): Promise<SpendRow[]> {
  const ids = rows.map((r) => r.key).filter((k): k is string => k !== null);
  if (ids.length === 0) return rows;
  const names = new Map((await tg.db.query<{ id: string; name: string }>('SELECT id, name FROM agents WHERE id = ANY($1::text[])', [ids])).map((a) => [a.id, a.name]));
  return rows.map((r) => (r.key && names.has(r.key) ? { ...r, label: names.get(r.key)! } : r));
}

export async function overview(tg: Tollgate, orgId: string | null, now = new Date()): Promise<Overview> {
  const started = performance.now();
  const rows = await spendGroups(tg, orgId, now);
  const queryMs = Math.round(performance.now() - started);
  const total = rows.find((r) => r.dim === 'total');
  const daily = dailySeries(rows, now);
  const today = daily.at(-1)!;
  const org = orgId ? await tg.principals.getOrg(orgId) : undefined;
  return {
    orgId,
    currency: org?.currency ?? 'USD',
    generatedAt: now.toISOString(),
    today: { spentMicros: today.spentMicros, calls: today.calls },
    month: {
      spentMicros: String(total?.month_spent ?? 0n), calls: Number(total?.month_calls ?? 0n), captured: Number(total?.captured ?? 0n),
      refused: Number(total?.refused ?? 0n), voided: Number(total?.voided ?? 0n), expired: Number(total?.expired ?? 0n),
    },
    byTask: spendRows(rows, 'task'),
    byAgent: await withAgentNames(tg, spendRows(rows, 'agent')),
    byService: spendRows(rows, 'service'),
    daily,
    limits: orgId ? await applicableLimits(tg, orgId, now) : [],
    queryMs,
  };
}
