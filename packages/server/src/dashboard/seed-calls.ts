/**
 * @module dashboard/seed-calls
 * `tollgate serve --seed-calls 100000` (or `TOLLGATE_SEED_CALLS`): fills the audit log with a
 * synthetic history of paid calls spread over the last 45 days, so the dashboard and its aggregate
 * queries can be tried and measured at scale. The records are real audit records (appended through
 * `AuditLog`, so the hash chain verifies) with a varied mix of services, tasks, agents, outcomes and
 * latencies, marked `edge: 'seed'` and summarised as synthetic. They carry no ledger movements: wallet
 * balances and limit accounts do not include them, and the overview shows limits from the ledger.
 * Seeding is once per database (the count is kept in `settings`), so a restart adds nothing.
 */
import { randomBytes } from 'node:crypto';
import { AuditLog, parseMicros, type AuditInput, type Db, type ServiceRegistry } from '@tollgate/core';

export interface SeedCallsOptions {
  db: Db;
  services: ServiceRegistry;
  count: number;
  orgId: string;
  userId: string;
  grantId: string | null;
  agentIds: readonly string[];
  /** Service slugs to spread calls over (each must be registered). */
  serviceSlugs: readonly string[];
  /** Days back the history reaches. */
  days?: number;
  now?: () => Date;
  onProgress?: (done: number) => void;
}

const SETTINGS_KEY = 'dashboard_seed_calls';
const CHUNK = 5_000;
const DAY_MS = 24 * 3600 * 1000;

/** A deterministic pseudo-random sequence, so two seeded databases look alike. */
function mulberry32(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const REFUSALS = [
  { code: 'budget_exceeded', decision: 'refused_budget_exceeded', data: { limit: 'grant_total', detail: 'This call would exceed the grant\'s total cap' } },
  { code: 'policy_denied', decision: 'deny', data: { rule: 'no-weekend-research', reason: 'research is not allowed on weekends' } },
  { code: 'approval_required', decision: 'require_approval', data: { reason: 'price above 1.00' } },
] as const;

/** Appends `count` synthetic records unless this database was already seeded; returns how many it added. */
export async function seedCalls(options: SeedCallsOptions): Promise<number> {
  const { db, count } = options;
  const [done] = await db.query<{ value: { count: number } }>('SELECT value FROM settings WHERE key = $1', [SETTINGS_KEY]);
  if (done && done.value.count >= count) return 0;
  const services = await Promise.all(options.serviceSlugs.map((slug) => options.services.get(slug)));
  const now = (options.now ?? (() => new Date()))().getTime();
  const spanMs = (options.days ?? 45) * DAY_MS;
  let at = now - spanMs;
  const audit = new AuditLog({ db, now: () => new Date(at) });
  const random = mulberry32(count);
  const tasks = Array.from({ length: 60 }, (_, i) => `report-${i + 1}`);
  for (let start = 0; start < count; start += CHUNK) {
    const appends: Promise<unknown>[] = [];
    for (let i = start; i < Math.min(count, start + CHUNK); i++) {
      // Records are appended in time order so that seq and created_at agree.
      at = now - spanMs + Math.floor((i / count) * (spanMs - 60_000));
      appends.push(audit.append(syntheticRecord(options, services, tasks, random)));
    }
    await Promise.all(appends);
    options.onProgress?.(Math.min(count, start + CHUNK));
  }
  await audit.flush();
  await db.query('INSERT INTO settings (key, value) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value', [SETTINGS_KEY, JSON.stringify({ count })]);
  return count;
}

type ServiceView = Awaited<ReturnType<ServiceRegistry['get']>>;

function syntheticRecord(o: SeedCallsOptions, services: ServiceView[], tasks: string[], random: () => number): AuditInput {
  const service = services[Math.floor(random() ** 1.6 * services.length)]!;
  const price = service.prices[0];
  // Usage-priced calls cost what they used: somewhere below their maximum.
  const priceMicros = price?.type === 'fixed' ? parseMicros(price.price) : 10_000n + BigInt(Math.floor(random() * 190_000));
  const roll = random();
  const refusal = roll < 0.07 ? REFUSALS[Math.floor(random() * REFUSALS.length)]! : undefined;
  const outcome: AuditInput['outcome'] = refusal ? 'refused' : roll < 0.11 ? 'voided' : roll < 0.115 ? 'expired' : 'captured';
  const status: AuditInput['status'] = outcome === 'captured' ? 'ok' : outcome === 'voided' ? (random() < 0.7 ? 'upstream_failed' : 'upstream_timeout') : outcome;
  const captured = outcome === 'captured' ? priceMicros : 0n;
  const latencyMs = outcome === 'refused' ? null : Math.round(40 + Math.exp(3 + random() * 3.2) + (status === 'upstream_timeout' ? 30_000 : 0));
  return {
    callId: `call_${randomBytes(16).toString('hex')}`,
    outcome,
    orgId: o.orgId, projectId: null, userId: o.userId, grantId: o.grantId,
    agentId: o.agentIds[Math.floor(random() * o.agentIds.length)] ?? null,
    taskId: tasks[Math.floor(random() ** 2 * tasks.length)]!,
    serviceId: service.id, service: service.slug, sellerId: service.sellerId, tool: price ? `${price.method} ${price.path}` : 'GET /',
    reason: 'synthetic history (--seed-calls)', edge: 'seed',
    priceMicros, pricing: price?.type ?? 'fixed',
    decision: refusal?.decision ?? 'allow', ruleId: refusal?.code === 'policy_denied' ? 'no-weekend-research' : null,
    errorCode: refusal?.code ?? (outcome === 'voided' ? status : null), errorData: refusal ? { ...refusal.data } : null,
    policyTrace: [{ rule: 'default', decided: refusal?.code !== 'policy_denied', effect: refusal?.code === 'policy_denied' ? 'deny' : 'allow' }],
    approvalId: null, holdMicros: outcome === 'refused' ? 0n : priceMicros, rail: 'balance',
    capturedMicros: captured, feeMicros: (captured * 250n) / 10_000n,
    status, httpStatus: outcome === 'captured' ? 200 : outcome === 'voided' ? 502 : null,
    summary: 'synthetic record from --seed-calls', latencyMs, units: null, transfers: [],
  };
}
