/**
 * @module policy/dry-run-recorded
 * "What would this policy change have done?" — replays an org's last N recorded calls through the
 * current and the proposed policy. Facts are rebuilt from the audit trail in call order: a task's
 * first paid call and an org's first use of a service are exactly what they were when each call was
 * made. What was left on grants and limits is not rebuilt, so the grant-cap trigger does not fire in
 * a dry run (the report says so).
 */
import type { Db } from '../db/db.ts';
import { invalid } from '../errors.ts';
import type { AuditLog } from '../audit/audit-log.ts';
import type { AuditRecord } from '../audit/types.ts';
import type { ServiceRef } from '../guard/types.ts';
import { parsePolicy } from './compile.ts';
import { dryRunPolicy, type DryRunReport, type RecordedFacts } from './dry-run.ts';
import { DRY_RUN_CALLS_MAX } from './limits.ts';
import type { PolicyInput } from './schemas.ts';
import type { Policies } from './store.ts';

export interface RecordedDryRun extends DryRunReport {
  /** Facts a dry run cannot rebuild from the record. */
  notReplayed: string[];
}

export async function dryRunOrgPolicy(options: { db: Db; audit: AuditLog; policies: Policies; orgId: string; proposed: PolicyInput; lastCalls: number }): Promise<RecordedDryRun> {
  const { db, audit, policies, orgId, lastCalls } = options;
  if (!Number.isInteger(lastCalls) || lastCalls < 1 || lastCalls > DRY_RUN_CALLS_MAX) throw invalid('lastCalls', `must be a whole number from 1 to ${DRY_RUN_CALLS_MAX}`);
  const proposed = parsePolicy(options.proposed);
  const current = await policies.load({ orgId, projectId: null, grantId: '' });
  const records = await lastRecords(audit, orgId, lastCalls);
  const services = await serviceFacts(db, [...new Set(records.map((r) => r.serviceId))]);
  const paidTasks = new Set<string>();
  const paidServices = new Set<string>();
  const facts: RecordedFacts[] = records.map((r) => {
    const service = services.get(r.serviceId) ?? { category: 'unknown', sensitivity: 'low' as const };
    const f: RecordedFacts = {
      callId: r.callId,
      service: { slug: r.service, sellerId: r.sellerId ?? '', category: service.category, sensitivity: service.sensitivity },
      tool: r.tool,
      priceMicros: r.priceMicros,
      agentId: r.agentId,
      taskId: r.taskId,
      isFirstPaidCallInTask: r.taskId !== null && !paidTasks.has(r.taskId),
      orgHasPaidService: paidServices.has(r.serviceId),
      grantRemainingMicros: null,
      userRemainingMicros: null,
    };
    if (r.outcome === 'captured') {
      if (r.taskId) paidTasks.add(r.taskId);
      paidServices.add(r.serviceId);
    }
    return f;
  });
  return { ...dryRunPolicy(current, proposed, facts), notReplayed: ['grant and limit balances (the grant-cap trigger)'] };
}

/** The org's last `n` calls, oldest first (one record per call: its latest outcome). */
async function lastRecords(audit: AuditLog, orgId: string, n: number): Promise<AuditRecord[]> {
  const seen = new Set<string>();
  const out: AuditRecord[] = [];
  let before: string | undefined;
  while (out.length < n) {
    const page = await audit.query({ orgId, limit: Math.min(500, n - out.length + 50), ...(before ? { before } : {}) });
    for (const r of page.records) {
      if (seen.has(r.callId) || out.length >= n) continue;
      seen.add(r.callId);
      out.push(r);
    }
    if (!page.next) break;
    before = page.next;
  }
  return out.reverse();
}

async function serviceFacts(db: Db, ids: string[]): Promise<Map<string, Pick<ServiceRef, 'category' | 'sensitivity'>>> {
  if (ids.length === 0) return new Map();
  const rows = await db.query<{ id: string; category: string; sensitivity: ServiceRef['sensitivity'] }>('SELECT id, category, sensitivity FROM services WHERE id = ANY($1::text[])', [ids]);
  return new Map(rows.map((r) => [r.id, { category: r.category, sensitivity: r.sensitivity }]));
}
