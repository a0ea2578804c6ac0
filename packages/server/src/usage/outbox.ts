/**
 * @module usage/outbox
 * Captured usage, exactly once. The guard's settle writes one `captured` audit record per call,
 * in a hash chain whose `seq` is assigned under a lock, so `seq` order is commit order. The outbox
 * copies those records into `usage_outbox`, keyed by the capture id (the call id: a call is
 * captured at most once), in one statement: a capture that committed is exported even when the
 * process that settled it crashed right after, and copying twice changes nothing.
 *
 * Each downstream sink then reads the outbox after its own cursor (`usage/outbox-drainer.ts`).
 */
import type { Db, UsageEvent } from '@tollgate/core';

/** Most audit records one fill copies (the next fill continues). */
export const OUTBOX_FILL_MAX = 5_000;
/** Serializes fills across processes on one PostgreSQL, so rows enter the outbox in `seq` order. */
const OUTBOX_FILL_LOCK_KEY = 7_301_994_212;

export interface OutboxEntry {
  seq: bigint;
  event: UsageEvent;
}

interface OutboxRow {
  capture_id: string;
  audit_seq: bigint;
  at: Date;
  edge: UsageEvent['edge'];
  org_id: string | null;
  user_id: string | null;
  grant_id: string | null;
  service: string;
  tool: string;
  status: UsageEvent['status'];
  latency_ms: number | null;
  units: bigint | null;
  charge_micros: bigint;
}

export class UsageOutbox {
  constructor(readonly db: Db) {}

  /** Copies the captures committed since the last fill; returns how many it copied. */
  async fill(limit = OUTBOX_FILL_MAX): Promise<number> {
    return this.db.transaction(async (tx) => {
      if (this.db.kind === 'postgres') await tx.query('SELECT pg_advisory_xact_lock($1)', [OUTBOX_FILL_LOCK_KEY]);
      const rows = await tx.query<{ capture_id: string }>(
        `INSERT INTO usage_outbox (capture_id, audit_seq, at, edge, org_id, user_id, grant_id, service, tool, status, latency_ms, units, charge_micros)
         SELECT call_id, seq, created_at, edge, org_id, user_id, grant_id, service, tool, status, latency_ms, units, captured_micros
           FROM audit_records
          WHERE outcome = 'captured' AND seq > (SELECT coalesce(max(audit_seq), 0) FROM usage_outbox)
          ORDER BY seq LIMIT $1
         ON CONFLICT (capture_id) DO NOTHING
         RETURNING capture_id`,
        [limit],
      );
      return rows.length;
    });
  }

  /** Captured usage after `afterSeq`, in audit order. */
  async read(afterSeq: bigint, limit: number): Promise<OutboxEntry[]> {
    const rows = await this.db.query<OutboxRow>('SELECT * FROM usage_outbox WHERE audit_seq > $1 ORDER BY audit_seq LIMIT $2', [afterSeq, limit]);
    return rows.map((row) => ({ seq: BigInt(row.audit_seq), event: eventOf(row) }));
  }
}

function eventOf(row: OutboxRow): UsageEvent {
  return {
    id: row.capture_id, callId: row.capture_id, at: new Date(row.at), edge: row.edge, principalId: row.user_id, orgId: row.org_id,
    grantId: row.grant_id, service: row.service, tool: row.tool, status: row.status, latencyMs: row.latency_ms ?? 0,
    ...(row.units === null ? {} : { units: BigInt(row.units) }), chargeMicros: BigInt(row.charge_micros),
  };
}
