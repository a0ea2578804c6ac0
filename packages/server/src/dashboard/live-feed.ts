/**
 * @module dashboard/live-feed
 * What the dashboard's server-sent-events streams carry: every new audit record (a call finished or
 * was refused) and the set of pending approvals. One poller per process reads the database while at
 * least one stream is open, so the feed sees calls made by every process on the same database, not
 * only this one's: new records by `seq` (the primary key, one range read; appends lock the chain
 * head, so records become visible in `seq` order and a cursor misses none), pending approvals through
 * the `approvals_pending_expiry` partial index, re-read in full only when the set of ids changed.
 */
import type { Db } from '@tollgate/core';

export const LIVE_FEED_POLL_MS = 500;
/** Most records one poll reads; a burst larger than this is delivered over the next polls. */
const RECORDS_PER_POLL_MAX = 500;
/** Most pending approvals shown; older ones are still in GET /v1/approvals. */
export const PENDING_APPROVALS_MAX = 200;

/** One finished call, as the live feed shows it (never a body or a secret). */
export interface FeedCall {
  seq: string;
  callId: string;
  outcome: 'captured' | 'voided' | 'refused' | 'expired';
  orgId: string | null;
  sellerId: string | null;
  service: string;
  tool: string;
  taskId: string | null;
  agentId: string | null;
  priceMicros: string;
  capturedMicros: string;
  errorCode: string | null;
  status: string;
  latencyMs: number | null;
  createdAt: string;
}

export interface FeedApproval {
  id: string;
  orgId: string;
  userId: string;
  grantId: string;
  callId: string;
  taskId: string | null;
  agentId: string | null;
  service: string;
  tool: string;
  priceMicros: string;
  reason: string | null;
  trigger: string;
  ruleId: string | null;
  explanation: string;
  /** What approving would allow as asked: this call, the task, or raising the grant's cap. */
  scope: 'call' | 'task' | 'raise_cap';
  raiseMicros: string | null;
  expiresAt: string;
  createdAt: string;
}

/** Which records a subscriber may see: an org (buyers, admins who chose one), a seller, or all. */
export interface FeedScope {
  orgId?: string | undefined;
  sellerId?: string | undefined;
}

export interface FeedSubscriber {
  scope: FeedScope;
  onCall(call: FeedCall): void;
  onApprovals(pending: FeedApproval[]): void;
}

interface CallRow {
  seq: bigint; call_id: string; outcome: FeedCall['outcome']; org_id: string | null; seller_id: string | null; service: string; tool: string;
  task_id: string | null; agent_id: string | null; price_micros: bigint; captured_micros: bigint; error_code: string | null; status: string;
  latency_ms: number | null; created_at: Date;
}

interface ApprovalRow {
  id: string; org_id: string; user_id: string; grant_id: string; call_id: string; task_id: string | null; agent_id: string | null; service: string; tool: string;
  price_micros: bigint; reason: string | null; trigger: string; rule_id: string | null; explanation: string; scope: FeedApproval['scope'];
  raise_micros: bigint | null; expires_at: Date; created_at: Date;
}

function callOf(r: CallRow): FeedCall {
  return {
    seq: String(r.seq), callId: r.call_id, outcome: r.outcome, orgId: r.org_id, sellerId: r.seller_id, service: r.service, tool: r.tool, taskId: r.task_id,
    agentId: r.agent_id, priceMicros: String(r.price_micros), capturedMicros: String(r.captured_micros), errorCode: r.error_code, status: r.status,
    latencyMs: r.latency_ms, createdAt: new Date(r.created_at).toISOString(),
  };
}

function approvalOf(r: ApprovalRow): FeedApproval {
  return {
    id: r.id, orgId: r.org_id, userId: r.user_id, grantId: r.grant_id, callId: r.call_id, taskId: r.task_id, agentId: r.agent_id, service: r.service, tool: r.tool,
    priceMicros: String(r.price_micros), reason: r.reason, trigger: r.trigger, ruleId: r.rule_id, explanation: r.explanation,
    scope: r.scope, raiseMicros: r.raise_micros === null ? null : String(r.raise_micros),
    expiresAt: new Date(r.expires_at).toISOString(), createdAt: new Date(r.created_at).toISOString(),
  };
}

export function inScope(scope: FeedScope, item: { orgId: string | null; sellerId?: string | null }): boolean {
  if (scope.orgId !== undefined && item.orgId !== scope.orgId) return false;
  if (scope.sellerId !== undefined && item.sellerId !== scope.sellerId) return false;
  return true;
}

export class LiveFeed {
  readonly #db: Db;
  readonly #pollMs: number;
  readonly #subscribers = new Set<FeedSubscriber>();
  #lastSeq: bigint | undefined;
  #pendingKey = '';
  #pending: FeedApproval[] = [];
  #timer: NodeJS.Timeout | undefined;
  #starting: Promise<void> | undefined;
  #busy = false;
  #polling: Promise<void> = Promise.resolve();
  readonly #onError: (error: unknown) => void;
  #closed: () => void = () => {};
  /** Resolves when the feed closes (server shutdown), so open streams end at once. */
  readonly closing = new Promise<void>((resolve) => {
    this.#closed = resolve;
  });

  constructor(db: Db, options: { pollMs?: number; onError?: (error: unknown) => void } = {}) {
    this.#db = db;
    this.#pollMs = options.pollMs ?? LIVE_FEED_POLL_MS;
    this.#onError = options.onError ?? (() => {});
  }

  get subscribers(): number {
    return this.#subscribers.size;
  }

  /** Adds a subscriber, sends it the pending approvals in its scope, and starts polling if needed. */
  async subscribe(subscriber: FeedSubscriber): Promise<() => void> {
    this.#subscribers.add(subscriber);
    try {
      // Concurrent first subscribers share one start, so there is only ever one timer.
      if (!this.#timer) await (this.#starting ??= this.#start().finally(() => (this.#starting = undefined)));
    } catch (error) {
      this.#subscribers.delete(subscriber);
      throw error;
    }
    subscriber.onApprovals(this.#pending.filter((a) => inScope(subscriber.scope, a)));
    return () => {
      this.#subscribers.delete(subscriber);
      if (this.#subscribers.size === 0) this.#stopTimer();
    };
  }

  async #start(): Promise<void> {
    await this.#polling;
    this.#lastSeq = undefined;
    this.#pendingKey = '';
    this.#pending = [];
    await this.#poll();
    this.#timer ??= setInterval(() => {
      if (this.#subscribers.size === 0) this.#stopTimer();
      // A slow poll is not overlapped: two polls from one cursor would deliver a call twice.
      else if (!this.#busy) {
        this.#busy = true;
        this.#polling = this.#poll().catch(this.#onError).finally(() => (this.#busy = false));
      }
    }, this.#pollMs);
    this.#timer.unref();
  }

  #stopTimer(): void {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = undefined;
  }

  /** Stops polling (server shutdown); open streams end on their own. */
  async close(): Promise<void> {
    this.#stopTimer();
    this.#subscribers.clear();
    this.#closed();
    await this.#polling;
  }

  async #poll(): Promise<void> {
    await this.#pollCalls();
    await this.#pollApprovals();
  }

  async #pollCalls(): Promise<void> {
    if (this.#lastSeq === undefined) {
      const [head] = await this.#db.query<{ seq: bigint | null }>('SELECT max(seq) AS seq FROM audit_records');
      this.#lastSeq = BigInt(head?.seq ?? 0);
      return;
    }
    const rows = await this.#db.query<CallRow>(
      `SELECT seq, call_id, outcome, org_id, seller_id, service, tool, task_id, agent_id, price_micros, captured_micros, error_code, status, latency_ms, created_at
         FROM audit_records WHERE seq > $1 ORDER BY seq LIMIT $2`,
      [this.#lastSeq, RECORDS_PER_POLL_MAX],
    );
    for (const row of rows) {
      this.#lastSeq = BigInt(row.seq);
      const call = callOf(row);
      for (const s of this.#subscribers) if (inScope(s.scope, call)) s.onCall(call);
    }
  }

  async #pollApprovals(): Promise<void> {
    const ids = await this.#db.query<{ id: string }>(`SELECT id FROM approvals WHERE state = 'pending' ORDER BY id LIMIT $1`, [PENDING_APPROVALS_MAX]);
    const key = ids.map((r) => r.id).join(',');
    if (key === this.#pendingKey) return;
    this.#pendingKey = key;
    const rows = ids.length === 0 ? [] : await this.#db.query<ApprovalRow>(
      `SELECT id, org_id, user_id, grant_id, call_id, task_id, agent_id, service, tool, price_micros, reason, trigger, rule_id, explanation, scope, raise_micros, expires_at, created_at
         FROM approvals WHERE state = 'pending' AND id = ANY($1::text[]) ORDER BY created_at DESC`,
      [ids.map((r) => r.id)],
    );
    const previous = this.#pending;
    this.#pending = rows.map(approvalOf);
    for (const s of this.#subscribers) {
      const before = previous.filter((a) => inScope(s.scope, a)).map((a) => a.id).join(',');
      const now = this.#pending.filter((a) => inScope(s.scope, a));
      if (now.map((a) => a.id).join(',') !== before) s.onApprovals(now);
    }
  }
}
