/**
 * @module approvals/approvals
 * The approval store. Every state change is one conditional UPDATE (`WHERE state = 'pending'`, `WHERE
 * used_at IS NULL`), so two deciders or two consumers racing — in one process or in several — can't
 * both win. Webhooks for `approval.created` / `approval.decided` / `approval.expired` are written to
 * the outbox in the same transaction as the change.
 */
import { randomBytes } from 'node:crypto';
import type { Db, Queryable } from '../db/db.ts';
import { invalid, TollgateError } from '../errors.ts';
import { PAGE_SIZE_MAX } from '../constants.ts';
import type { Webhooks } from '../webhooks/webhooks.ts';
import { approvalFrom, approvalJson, checkCreate, checkDecide, coverageProblem, type Row } from './rows.ts';
import { Waiters } from './waiters.ts';
import type {
  Approval, ApprovalPage, ConsumeFacts, ConsumeResult, CreateApprovalInput, DecideInput, DecideResult, ListApprovalsFilter,
} from './types.ts';

/** How long a person has to decide, by default: one hour. */
export const APPROVAL_PENDING_TTL_MS = 3600_000;
/** How long an approval stays usable after it is approved, by default: one day. */
export const APPROVAL_VALID_FOR_MS = 24 * 3600_000;
/** Longest single long-poll; clients loop for longer waits. */
export const APPROVAL_WAIT_MS_MAX = 60_000;
/** How often a waiter re-reads the row, to see decisions made by another process. */
export const APPROVAL_POLL_MS = 250;
/** Most approvals one `expireDue` call expires (it is called again by the sweeper). */
const EXPIRE_BATCH_MAX = 1_000;

export interface ApprovalsOptions {
  now?: () => Date;
  /** Outbox for approval webhooks; without it no webhooks are written. */
  webhooks?: Webhooks;
  pendingTtlMs?: number;
  validForMs?: number;
  pollMs?: number;
}

export class Approvals {
  readonly #db: Db;
  readonly #now: () => Date;
  readonly #webhooks: Webhooks | undefined;
  readonly #pendingTtlMs: number;
  readonly #validForMs: number;
  readonly #pollMs: number;
  readonly #waiters = new Waiters();

  constructor(db: Db, options: ApprovalsOptions = {}) {
    this.#db = db;
    this.#now = options.now ?? (() => new Date());
    this.#webhooks = options.webhooks;
    this.#pendingTtlMs = options.pendingTtlMs ?? APPROVAL_PENDING_TTL_MS;
    this.#validForMs = options.validForMs ?? APPROVAL_VALID_FOR_MS;
    this.#pollMs = options.pollMs ?? APPROVAL_POLL_MS;
  }

  /**
   * Parks a call for a person. Idempotent by call id: while the call has a pending (or approved)
   * approval, asking again returns it instead of creating another. A pending one past its deadline
   * is expired first, so a retry after expiry asks afresh.
   */
  async create(input: CreateApprovalInput): Promise<Approval> {
    const data = checkCreate(input);
    const now = this.#now();
    const ttlMs = input.ttlMs ?? this.#pendingTtlMs;
    const result = await this.#db.transaction(async (tx) => {
      const stale = await this.#expireWhere(tx, 'call_id = $2', [input.callId], now);
      const inserted = await tx.query<Row>(
        `INSERT INTO approvals (id, org_id, user_id, grant_id, call_id, task_id, agent_id, service, tool, price_micros, reason,
           trigger, rule_id, explanation, state, scope, raise_micros, expires_at, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, 'pending', $15, $16, $17, $18)
         ON CONFLICT (call_id) WHERE state IN ('pending', 'approved') DO NOTHING RETURNING *`,
        [`apr_${randomBytes(12).toString('hex')}`, data.orgId, data.userId, data.grantId, data.callId, data.taskId, data.agentId,
          data.service, data.tool, data.priceMicros, data.reason, data.trigger, data.ruleId, data.explanation, data.scope,
          data.raiseMicros, new Date(now.getTime() + ttlMs), now],
      );
      if (inserted[0]) {
        const approval = approvalFrom(inserted[0]);
        await this.#emit(tx, 'approval.created', approval);
        return { approval, stale };
      }
      const live = await tx.query<Row>(`SELECT * FROM approvals WHERE call_id = $1 AND state IN ('pending', 'approved')`, [input.callId]);
      if (!live[0]) throw new TollgateError('internal', `approval for call ${input.callId} vanished during create`);
      return { approval: approvalFrom(live[0]), stale };
    });
    for (const a of result.stale) this.#waiters.notify(a.id);
    return result.approval;
  }

  async get(id: string): Promise<Approval> {
    const rows = await this.#db.query<Row>('SELECT * FROM approvals WHERE id = $1', [id]);
    if (!rows[0]) throw new TollgateError('not_found', `No approval ${id}`, { approvalId: id });
    return approvalFrom(rows[0]);
  }

  /** Newest first; `next` is the cursor of the following page. */
  async list(filter: ListApprovalsFilter = {}): Promise<ApprovalPage> {
    const limit = Math.min(Math.max(filter.limit ?? 50, 1), PAGE_SIZE_MAX);
    let beforeAt: Date | null = null;
    let beforeId: string | null = null;
    if (filter.before) {
      const [at, id] = filter.before.split('|');
      beforeAt = new Date(at ?? '');
      beforeId = id ?? null;
      if (Number.isNaN(beforeAt.getTime()) || !beforeId) throw invalid('before', 'is not a cursor returned by list');
    }
    const rows = await this.#db.query<Row>(
      `SELECT * FROM approvals
       WHERE ($1::text IS NULL OR org_id = $1) AND ($2::text IS NULL OR user_id = $2) AND ($3::text IS NULL OR state = $3)
         AND ($4::timestamptz IS NULL OR (created_at, id) < ($4::timestamptz, $5::text))
       ORDER BY created_at DESC, id DESC LIMIT $6`,
      [filter.orgId ?? null, filter.userId ?? null, filter.state ?? null, beforeAt, beforeId, limit + 1],
    );
    const items = rows.slice(0, limit).map(approvalFrom);
    const last = items[items.length - 1];
    return rows.length > limit && last ? { items, next: `${last.createdAt.toISOString()}|${last.id}` } : { items };
  }

  /**
   * Approves or denies a pending approval, once. Deciding again, or after the deadline, returns
   * `already_decided` / `expired` with the approval as it stands; an unknown id throws `not_found`.
   */
  async decide(id: string, input: DecideInput): Promise<DecideResult> {
    const now = this.#now();
    const result = await this.#db.transaction(async (tx): Promise<DecideResult> => {
      const current = await tx.query<Row>('SELECT * FROM approvals WHERE id = $1 FOR UPDATE', [id]);
      if (!current[0]) throw new TollgateError('not_found', `No approval ${id}`, { approvalId: id });
      const before = approvalFrom(current[0]);
      if (before.state === 'pending' && before.expiresAt <= now) {
        const [expired] = await this.#expireWhere(tx, 'id = $2', [id], now);
        return { type: 'expired', approval: expired ?? before };
      }
      if (before.state === 'expired') return { type: 'expired', approval: before };
      if (before.state !== 'pending') return { type: 'already_decided', approval: before };
      const change = checkDecide(before, input, now, this.#validForMs);
      const rows = await tx.query<Row>(
        `UPDATE approvals SET state = $2, decided_by = $3, decided_at = $4, note = $5, scope = $6, raise_micros = $7, expires_at = $8
         WHERE id = $1 AND state = 'pending' RETURNING *`,
        [id, change.state, change.decidedBy, now, change.note, change.scope, change.raiseMicros, change.expiresAt],
      );
      const approval = approvalFrom(rows[0]!);
      await this.#emit(tx, 'approval.decided', approval);
      return { type: 'decided', approval };
    });
    if (result.type !== 'already_decided') this.#waiters.notify(id);
    return result;
  }

  /**
   * Long-poll: resolves as soon as the approval is decided (or expires), or with the still-pending
   * approval after `timeoutMs`. Decisions in this process wake it at once; the row is re-read every
   * `pollMs` so a decision made by another process is seen too.
   */
  async wait(id: string, options: { timeoutMs: number }): Promise<Approval> {
    const waitMs = Math.min(Math.max(options.timeoutMs, 0), APPROVAL_WAIT_MS_MAX);
    const deadline = Date.now() + waitMs;
    for (;;) {
      const approval = await this.get(id);
      if (approval.state !== 'pending') return approval;
      if (approval.expiresAt <= this.#now()) return (await this.expireDue(this.#now(), id))[0] ?? (await this.get(id));
      const leftMs = deadline - Date.now();
      if (leftMs <= 0) return approval;
      await this.#waiters.next(id, Math.min(leftMs, this.#pollMs));
    }
  }

  /** Marks pending approvals past their deadline as expired (the sweeper calls this); returns them. */
  async expireDue(now: Date = this.#now(), onlyId?: string): Promise<Approval[]> {
    const expired = await this.#db.transaction((tx) =>
      onlyId ? this.#expireWhere(tx, 'id = $2', [onlyId], now) : this.#expireWhere(tx, 'true', [], now),
    );
    for (const a of expired) this.#waiters.notify(a.id);
    return expired;
  }

  /**
   * Uses an approval for a call. `call` and `raise_cap` approvals are used once: the conditional
   * UPDATE on `used_at IS NULL` lets exactly one of several racing callers through. `task`
   * approvals cover every call of their service in their task until they expire.
   */
  async consume(id: string, facts: ConsumeFacts): Promise<ConsumeResult> {
    const rows = await this.#db.query<Row>('SELECT * FROM approvals WHERE id = $1', [id]);
    if (!rows[0]) return { type: 'not_covered', why: 'not_found' };
    const approval = approvalFrom(rows[0]);
    const now = this.#now();
    const why = coverageProblem(approval, facts, now);
    if (why) return { type: 'not_covered', why, approval };
    if (approval.scope === 'task') return { type: 'covered', scope: 'task', approval };
    const used = await this.#db.query<Row>(
      `UPDATE approvals SET used_at = $2, used_by_call_id = $3
       WHERE id = $1 AND state = 'approved' AND used_at IS NULL AND expires_at > $2 RETURNING *`,
      [id, now, facts.callId],
    );
    if (!used[0]) {
      const after = await this.get(id);
      return { type: 'not_covered', why: coverageProblem(after, facts, now) ?? 'used', approval: after };
    }
    const taken = approvalFrom(used[0]);
    if (taken.scope === 'raise_cap') return { type: 'covered', scope: 'raise_cap', approval: taken, raiseMicros: taken.raiseMicros ?? 0n };
    return { type: 'covered', scope: 'call', approval: taken };
  }

  async #expireWhere(tx: Queryable, where: string, params: unknown[], now: Date): Promise<Approval[]> {
    const rows = await tx.query<Row>(
      `UPDATE approvals SET state = 'expired' WHERE id IN (
         SELECT id FROM approvals WHERE state = 'pending' AND expires_at <= $1 AND ${where}
         ORDER BY expires_at LIMIT ${EXPIRE_BATCH_MAX} FOR UPDATE SKIP LOCKED)
       RETURNING *`,
      [now, ...params],
    );
    const expired = rows.map(approvalFrom);
    for (const approval of expired) await this.#emit(tx, 'approval.expired', approval);
    return expired;
  }

  async #emit(tx: Queryable, type: 'approval.created' | 'approval.decided' | 'approval.expired', approval: Approval): Promise<void> {
    if (!this.#webhooks) return;
    await this.#webhooks.enqueue(tx, { orgId: approval.orgId, type, data: { approval: approvalJson(approval) } });
  }
}
