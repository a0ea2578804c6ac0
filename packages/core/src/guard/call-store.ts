/**
 * @module guard/call-store
 * The per-call idempotency record. A call's row is written in the same transaction as its hold (see
 * `insertAuthorized`), or as a refusal when it was refused: one INSERT … ON CONFLICT either way, so
 * of fifty concurrent requests with one key exactly one owns the call; the others see it in flight,
 * or its recorded outcome once it settled. State changes are conditional UPDATEs for the same reason.
 */
import type { Db, Queryable } from '../db/db.ts';
import type { ErrorCode } from '../errors.ts';
import { Batcher } from '../batching/batcher.ts';

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

/** A call whose hold the ledger just placed, written with it. */
export interface AuthorizedCall extends NewCall {
  holdMicros: bigint;
  context: CallContext;
}

/** A call settled by the ledger batch it is written in. */
export interface FinishedCall {
  id: string;
  state: 'captured' | 'voided';
  chargedMicros: bigint;
  result: Record<string, unknown>;
}

/** Most call records one statement touches (see batching/batcher.ts). */
const CALL_BATCH_SIZE_MAX = 500;

/**
 * Call records. Reads, refusals and state changes of many concurrent calls share one statement
 * (batchers); the rows of authorized and settled calls are written inside the ledger's own batch
 * (`insertAuthorized`, `finishIn`). Within a batch a repeated id is resolved in submission order,
 * exactly as one-at-a-time statements would have been.
 */
export class CallStore {
  readonly #db: Db;
  readonly #refusals: Batcher<NewCall & { refusal: StoredRefusal }, boolean>;
  readonly #reads: Batcher<string, CallRow | undefined>;
  readonly #transitions: Batcher<Transition, boolean>;

  constructor(db: Db) {
    this.#db = db;
    const options = { sizeMax: CALL_BATCH_SIZE_MAX };
    this.#refusals = new Batcher((calls) => this.#refuseBatch(calls), options);
    this.#reads = new Batcher((ids) => this.#readBatch(ids), options);
    this.#transitions = new Batcher((items) => transition(db, items), options);
  }

  get(id: string): Promise<CallRow | undefined> {
    return this.#reads.submit(id);
  }

  /** Re-opens a call that was refused for approval, once: only one concurrent retry wins. */
  reopen(id: string): Promise<boolean> {
    return this.#transitions.submit({ id, from: 'refused', to: 'authorizing', set: { refusal: null } });
  }

  /** Forgets a re-opened call that failed for an unexpected reason, so the client's retry can run again. */
  async release(id: string): Promise<void> {
    await this.#db.query(`DELETE FROM calls WHERE id = $1 AND state = 'authorizing'`, [id]);
  }

  /** Records a refusal; false when another request with the same key already owns the call. */
  refuse(call: NewCall, refusal: StoredRefusal): Promise<boolean> {
    return this.#refusals.submit({ ...call, refusal });
  }

  /** Moves an authorized call to its final state; false when another settle got there first. */
  finish(id: string, state: 'captured' | 'voided', chargedMicros: bigint, result: Record<string, unknown>): Promise<boolean> {
    return this.#transitions.submit({ id, from: 'authorized', to: state, set: { chargedMicros, result } });
  }

  /**
   * Inside the hold's ledger transaction: writes the rows of calls whose hold succeeded (or moves a
   * re-opened one from `authorizing`); false for a call another request already owns.
   */
  async insertAuthorized(tx: Queryable, calls: readonly AuthorizedCall[]): Promise<boolean[]> {
    const first = firstIndexById(calls.map((c) => c.id));
    const unique = calls.filter((c, i) => first.get(c.id) === i);
    const column = <V>(pick: (c: AuthorizedCall) => V) => unique.map(pick);
    const written = await tx.query<{ id: string }>(
      `INSERT INTO calls (id, grant_id, org_id, user_id, service_id, task_id, fingerprint, state, hold_micros, context)
       SELECT id, grant_id, org_id, user_id, service_id, task_id, fingerprint, 'authorized', hold, context
         FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::int8[], $9::jsonb[])
           AS n(id, grant_id, org_id, user_id, service_id, task_id, fingerprint, hold, context)
       ON CONFLICT (id) DO UPDATE SET state = 'authorized', hold_micros = EXCLUDED.hold_micros, context = EXCLUDED.context, updated_at = now()
         WHERE calls.state = 'authorizing' AND calls.fingerprint = EXCLUDED.fingerprint
       RETURNING id`,
      [
        column((c) => c.id), column((c) => c.grantId), column((c) => c.orgId), column((c) => c.userId), column((c) => c.serviceId),
        column((c) => c.taskId), column((c) => c.fingerprint), column((c) => c.holdMicros.toString()), column((c) => json(c.context)),
      ],
    );
    const won = new Set(written.map((r) => r.id));
    return calls.map((c, i) => first.get(c.id) === i && won.has(c.id));
  }

  /** Inside the settle's ledger transaction: moves authorized calls to their final state. */
  finishIn(tx: Queryable, calls: readonly FinishedCall[]): Promise<boolean[]> {
    return transition(tx, calls.map((c) => ({ id: c.id, from: 'authorized', to: c.state, set: { chargedMicros: c.chargedMicros, result: c.result } })));
  }

  /** Calls in `state` not touched since `olderThan`: holds of a crashed process, or claims it left. */
  async stale(state: 'authorizing' | 'authorized', olderThan: Date, limit: number): Promise<CallRow[]> {
    return this.#db.query<CallRow>(`SELECT * FROM calls WHERE state = $1 AND updated_at < $2 ORDER BY updated_at LIMIT $3`, [state, olderThan, limit]);
  }

  async hasCaptured(filter: { taskId?: string; orgId: string; serviceId?: string }): Promise<boolean> {
    const rows = await this.#db.query(
      `SELECT 1 FROM calls WHERE org_id = $1 AND state = 'captured' AND ($2::text IS NULL OR task_id = $2) AND ($3::text IS NULL OR service_id = $3) LIMIT 1`,
      [filter.orgId, filter.taskId ?? null, filter.serviceId ?? null],
    );
    return rows.length > 0;
  }

  async #refuseBatch(calls: readonly (NewCall & { refusal: StoredRefusal })[]): Promise<boolean[]> {
    const first = firstIndexById(calls.map((c) => c.id));
    const unique = calls.filter((c, i) => first.get(c.id) === i);
    const column = <V>(pick: (c: NewCall & { refusal: StoredRefusal }) => V) => unique.map(pick);
    const written = await this.#db.query<{ id: string }>(
      `INSERT INTO calls (id, grant_id, org_id, user_id, service_id, task_id, fingerprint, state, refusal)
       SELECT id, grant_id, org_id, user_id, service_id, task_id, fingerprint, 'refused', refusal
         FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::jsonb[])
           AS n(id, grant_id, org_id, user_id, service_id, task_id, fingerprint, refusal)
       ON CONFLICT (id) DO UPDATE SET state = 'refused', refusal = EXCLUDED.refusal, updated_at = now()
         WHERE calls.state = 'authorizing'
       RETURNING id`,
      [column((c) => c.id), column((c) => c.grantId), column((c) => c.orgId), column((c) => c.userId), column((c) => c.serviceId), column((c) => c.taskId), column((c) => c.fingerprint), column((c) => json(c.refusal))],
    );
    const won = new Set(written.map((r) => r.id));
    return calls.map((c, i) => first.get(c.id) === i && won.has(c.id));
  }

  async #readBatch(ids: readonly string[]): Promise<(CallRow | undefined)[]> {
    const rows = await this.#db.query<CallRow>('SELECT * FROM calls WHERE id = ANY($1::text[])', [[...new Set(ids)]]);
    const byId = new Map(rows.map((r) => [r.id, r]));
    return ids.map((id) => byId.get(id));
  }
}

interface Transition {
  id: string;
  from: CallState;
  to: CallState;
  set: { holdMicros?: bigint; chargedMicros?: bigint; context?: CallContext; result?: Record<string, unknown>; refusal?: StoredRefusal | null };
}

/** Conditional state changes, one statement: an item applies only if its call is still in `from`. */
async function transition(q: Queryable, items: readonly Transition[]): Promise<boolean[]> {
  if (items.length === 0) return [];
  const first = firstIndexById(items.map((t) => t.id));
  const unique = items.filter((t, i) => first.get(t.id) === i);
  const updated = await q.query<{ id: string }>(
    `UPDATE calls c SET state = n.to_state, updated_at = now(),
            hold_micros = coalesce(n.hold, c.hold_micros), charged_micros = coalesce(n.charged, c.charged_micros),
            context = coalesce(n.context, c.context), result = coalesce(n.result, c.result),
            refusal = CASE WHEN n.set_refusal THEN n.refusal ELSE c.refusal END
       FROM unnest($1::text[], $2::text[], $3::text[], $4::bigint[], $5::bigint[], $6::jsonb[], $7::jsonb[], $8::boolean[], $9::jsonb[])
         AS n(id, from_state, to_state, hold, charged, context, result, set_refusal, refusal)
      WHERE c.id = n.id AND c.state = n.from_state
     RETURNING c.id`,
    [
      unique.map((t) => t.id), unique.map((t) => t.from), unique.map((t) => t.to),
      unique.map((t) => t.set.holdMicros ?? null), unique.map((t) => t.set.chargedMicros ?? null),
      unique.map((t) => json(t.set.context)), unique.map((t) => json(t.set.result)),
      unique.map((t) => 'refusal' in t.set), unique.map((t) => json(t.set.refusal ?? undefined)),
    ],
  );
  const won = new Set(updated.map((r) => r.id));
  return items.map((t, i) => first.get(t.id) === i && won.has(t.id));
}

/** Where each id first appears; later repeats in one batch lose, as they would one at a time. */
function firstIndexById(ids: readonly string[]): Map<string, number> {
  const first = new Map<string, number>();
  ids.forEach((id, i) => {
    if (!first.has(id)) first.set(id, i);
  });
  return first;
}

function json(value: unknown): string | null {
  return value === undefined ? null : JSON.stringify(value, (_key, v: unknown) => (typeof v === 'bigint' ? v.toString() : v));
}
