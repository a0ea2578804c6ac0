/**
 * @module guard/call-store
 * The per-call idempotency record. Claiming a call is one INSERT … ON CONFLICT, so of fifty
 * concurrent requests with one key exactly one proceeds; the others see it in flight, or its
 * recorded outcome once it settled. State changes are conditional UPDATEs for the same reason.
 */
import type { Db } from '../db/db.ts';
import type { ErrorCode } from '../errors.ts';

export type CallState = 'authorizing' | 'authorized' | 'captured' | 'voided' | 'refused';

export interface StoredRefusal {
  code: ErrorCode;
  detail: string;
  data: Record<string, unknown>;
}

export interface CallRow {
  id: string;
  grant_id: string;
  org_id: string;
  user_id: string;
  service_id: string;
  task_id: string | null;
  fingerprint: string;
  state: CallState;
  hold_micros: bigint;
  charged_micros: bigint;
  context: CallContext;
  refusal: StoredRefusal | null;
  result: Record<string, unknown> | null;
}

/** What settle needs to know about the hold that authorize placed. */
export interface CallContext {
  holdIds: string[];
  /** Which hold ids count calls rather than money (posted in full on capture). */
  countHoldIds: string[];
  free: boolean;
  pricing: 'fixed' | 'usage';
  sellerId: string;
  currency: string;
  feeBasisPoints: number;
  /** Everything the audit record needs that settle does not otherwise have. */
  audit: Record<string, unknown>;
}

export interface NewCall {
  id: string;
  grantId: string;
  orgId: string;
  userId: string;
  serviceId: string;
  taskId: string | null;
  fingerprint: string;
}

export class CallStore {
  readonly #db: Db;

  constructor(db: Db) {
    this.#db = db;
  }

  /** Inserts the call in state `authorizing`; returns the existing row when the id was taken. */
  async claim(call: NewCall): Promise<{ claimed: true } | { claimed: false; existing: CallRow }> {
    const inserted = await this.#db.query(
      `INSERT INTO calls (id, grant_id, org_id, user_id, service_id, task_id, fingerprint, state)
       VALUES ($1, $2, $3, $4, $5, $6, $7, 'authorizing') ON CONFLICT (id) DO NOTHING RETURNING id`,
      [call.id, call.grantId, call.orgId, call.userId, call.serviceId, call.taskId, call.fingerprint],
    );
    if (inserted.length > 0) return { claimed: true };
    const existing = await this.get(call.id);
    if (!existing) return this.claim(call);
    return { claimed: false, existing };
  }

  async get(id: string): Promise<CallRow | undefined> {
    const [row] = await this.#db.query<CallRow>('SELECT * FROM calls WHERE id = $1', [id]);
    return row;
  }

  /** Re-opens a call that was refused for approval, once: only one concurrent retry wins. */
  async reopen(id: string): Promise<boolean> {
    const rows = await this.#db.query(
      `UPDATE calls SET state = 'authorizing', refusal = NULL, updated_at = now() WHERE id = $1 AND state = 'refused' RETURNING id`,
      [id],
    );
    return rows.length > 0;
  }

  /** Forgets a claim that failed for an unexpected reason, so the client's retry can run again. */
  async release(id: string): Promise<void> {
    await this.#db.query(`DELETE FROM calls WHERE id = $1 AND state = 'authorizing'`, [id]);
  }

  async refuse(id: string, refusal: StoredRefusal): Promise<void> {
    await this.#db.query(`UPDATE calls SET state = 'refused', refusal = $2, updated_at = now() WHERE id = $1 AND state = 'authorizing'`, [
      id,
      JSON.stringify(refusal),
    ]);
  }

  async authorized(id: string, holdMicros: bigint, context: CallContext): Promise<void> {
    await this.#db.query(
      `UPDATE calls SET state = 'authorized', hold_micros = $2, context = $3, updated_at = now() WHERE id = $1 AND state = 'authorizing'`,
      [id, holdMicros, JSON.stringify(context, bigintReplacer)],
    );
  }

  /** Moves an authorized call to its final state; false when another settle got there first. */
  async finish(id: string, state: 'captured' | 'voided', chargedMicros: bigint, result: Record<string, unknown>): Promise<boolean> {
    const rows = await this.#db.query(
      `UPDATE calls SET state = $2, charged_micros = $3, result = $4, updated_at = now() WHERE id = $1 AND state = 'authorized' RETURNING id`,
      [id, state, chargedMicros, JSON.stringify(result, bigintReplacer)],
    );
    return rows.length > 0;
  }

  /** Authorized calls older than `olderThan`: candidates whose holds may have expired. */
  async staleAuthorized(olderThan: Date, limit: number): Promise<CallRow[]> {
    return this.#db.query<CallRow>(`SELECT * FROM calls WHERE state = 'authorized' AND updated_at < $1 ORDER BY updated_at LIMIT $2`, [olderThan, limit]);
  }

  async hasCaptured(filter: { taskId?: string; orgId: string; serviceId?: string }): Promise<boolean> {
    const rows = await this.#db.query(
      `SELECT 1 FROM calls WHERE org_id = $1 AND state = 'captured' AND ($2::text IS NULL OR task_id = $2) AND ($3::text IS NULL OR service_id = $3) LIMIT 1`,
      [filter.orgId, filter.taskId ?? null, filter.serviceId ?? null],
    );
    return rows.length > 0;
  }
}

function bigintReplacer(_key: string, value: unknown): unknown {
  return typeof value === 'bigint' ? value.toString() : value;
}
