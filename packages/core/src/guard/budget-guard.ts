/**
 * @module guard/budget-guard
 * The budget guard: policy → one atomic hold over every limit → (approval) → and, after the edge
 * ran the call, capture or void → audit record. Both steps are idempotent by call id: a retried
 * authorize finds the call and answers with its state; a retried settle changes nothing.
 */
import type { Db } from '../db/db.ts';
import { TollgateError } from '../errors.ts';
import type { Grants } from '../grants/grants.ts';
import type { Account, AttachingLedger, Ledger, TransferResult } from '../ledger/index.ts';
import { Batcher } from '../batching/batcher.ts';
import { accountId, earningsAccount } from '../limits/accounts.ts';
import type { LimitBook } from '../limits/limit-book.ts';
import { formatMicros, parseMicros } from '../money.ts';
import { callIdFor } from './call-id.ts';
import { allOk, authorizedRows, remainingOf, settledRows, type SettledCall } from './attachments.ts';
import { CallStore, type AuthorizedCall, type CallContext as StoredContext, type CallRow, type NewCall } from './call-store.ts';
import { loadCallContext, type CallContext } from './context.ts';
import { checkGrant, reapprovalReason } from './grant-checks.ts';
import { buildHoldChain, buildSettleChain, type HoldChain } from './hold-chain.ts';
import type { ApprovalPort, AuditPort, PolicyPort } from './ports.ts';
import { failingIndex, refusalFor } from './refusals.ts';
import type { Authorization, Authorized, CallRequest, Guard, SettleInput, Settlement } from './types.ts';
import { movements, recordBase, storedMovements, type Attempt } from './records.ts';

export interface BudgetGuardOptions {
  db: Db;
  /** The SQL ledger: call and audit rows ride in its batches (ledger/attachment.ts). */
  ledger: Ledger & AttachingLedger;
  grants: Grants;
  limits: LimitBook;
  policy: PolicyPort;
  approvals: ApprovalPort;
  audit: AuditPort;
  now: () => Date;
  /** Where a person decides approvals, shown in `approval_required` refusals. */
  approvalUrl?: (approvalId: string) => string;
}

/** Seconds a client should wait before retrying a call that is still running. */
const IN_FLIGHT_RETRY_SECONDS = 1;
/** Most authorized-but-unsettled calls remembered in process (beyond it, settle reads the row). */
const AUTHORIZED_HERE_MAX = 100_000;
/** Seconds a client should wait before polling an approval again. */
const APPROVAL_RETRY_SECONDS = 5;

/** Ledger statuses that mean another request with the same key already placed (or failed) these transfers. */
const TWIN_STATUSES = /^(exists_with_different_|id_already_failed$)/;

type Held =
  | { type: 'held'; holdMicros: bigint; free: boolean; remainingMicros: bigint }
  | { type: 'twin'; answer: Authorization }
  | { type: 'failed'; results: TransferResult[] };

export class BudgetGuard implements Guard {
  readonly calls: CallStore;
  readonly #o: BudgetGuardOptions;
  readonly #earnings = new Set<string>();
  /**
   * Calls this process authorized and has not settled yet, so settle need not read them back. Safe
   * when another process settles the call instead: the conditional state change and the ledger's
   * idempotent transfer ids turn the late settle into a replay.
   */
  readonly #authorizedHere = new Map<string, CallRow>();
  /** Balance reads of many concurrent calls share one query. */
  readonly #accounts: Batcher<string, Account | undefined>;
  readonly #authorizedRows;
  readonly #settledRows;

  constructor(options: BudgetGuardOptions) {
    this.#o = options;
    this.calls = new CallStore(options.db);
    this.#authorizedRows = authorizedRows(this.calls);
    this.#settledRows = settledRows(this.calls, options.audit);
    this.#accounts = new Batcher(async (ids) => {
      const found = new Map((await options.ledger.lookupAccounts([...new Set(ids)])).map((a) => [a.id, a]));
      return ids.map((id) => found.get(id));
    }, { sizeMax: 1_000 });
  }

  /**
   * A new call runs policy and places its hold, and its row is written in the hold's own
   * transaction, so two requests with one key never both own the call: the second finds the first's
   * hold and row, and is answered like a retry. The row is not read first (a round trip on every
   * call for the rare retry): a retry's holds come back `exists` or `id_already_failed` and its row
   * insert conflicts, and it is answered from the row then. Only a request that brings an approval
   * id reads the row first, since it may re-open a parked call; and before asking a person to
   * approve, the row is read so a retry never asks twice (`#askApproval`).
   */
  async authorize(request: CallRequest): Promise<Authorization> {
    const grant = await this.#o.grants.authenticate(request.token);
    const callId = callIdFor(grant.id, request.idempotencyKey);
    const existing = request.approvalId ? await this.calls.get(callId) : undefined;
    if (existing) {
      const answer = await this.#existing(existing, request, { reopen: true });
      if (answer) return answer;
    }
    const attempt: Attempt = { callId, grant, request, decision: 'allow', trace: [], ruleId: null, approvalId: request.approvalId ?? null, context: undefined };
    try {
      return await this.#authorizeNew(attempt);
    } catch (error) {
      if (error instanceof AnsweredBefore) {
        if ('error' in error.earlier) throw error.earlier.error;
        return error.earlier.answer;
      }
      if (!(error instanceof TollgateError) || error.code === 'internal') {
        // A call re-opened for its approval goes back to being retryable.
        if (existing) await this.calls.release(callId);
        throw error;
      }
      return this.#refuse(attempt, error);
    }
  }

  async #existing(row: CallRow, request: CallRequest, options: { reopen: boolean }): Promise<Authorization | undefined> {
    if (row.fingerprint !== request.fingerprint) {
      throw new TollgateError('idempotency_conflict', 'This Idempotency-Key was already used for a different request', { callId: row.id });
    }
    if (row.state === 'captured' || row.state === 'voided') {
      return { type: 'replayed', callId: row.id, outcome: row.state, chargedMicros: row.charged_micros, remainingMicros: BigInt(String(row.result?.remainingMicros ?? 0)), result: (row.result?.edge as Record<string, unknown>) ?? {} };
    }
    if (row.state === 'authorizing' || row.state === 'authorized') return { type: 'in_flight', callId: row.id, retryAfterSeconds: IN_FLIGHT_RETRY_SECONDS };
    const refusal = row.refusal!;
    // A call parked for approval continues when the retry brings an approval id; any other refusal
    // is final for this key: the same request gets the same answer.
    if (options.reopen && refusal.code === 'approval_required' && request.approvalId && (await this.calls.reopen(row.id))) return undefined;
    throw new TollgateError(refusal.code, refusal.detail, { ...refusal.data, callId: row.id, replayed: true });
  }

  async #authorizeNew(attempt: Attempt): Promise<Authorization> {
    const { grant, request, callId } = attempt;
    const now = this.#o.now();
    const lineage = await this.#o.grants.lineage(grant);
    checkGrant(lineage, request, now);
    const context = await loadCallContext(this.#o.db, lineage, request, now);
    attempt.context = context;
    const raiseMicros = await this.#decide(attempt, context);
    if (raiseMicros > 0n) await this.#o.limits.raise(accountId.grantTotal(grant.id), raiseMicros, attempt.approvalId!);
    const held = await this.#hold(attempt, context);
    if (held.type === 'twin') return held.answer;
    if (held.type === 'failed') throw new TollgateError('internal', 'the hold failed without a refusal');
    return { type: 'authorized', callId, grantId: grant.id, holdMicros: held.holdMicros, free: held.free, remainingMicros: held.remainingMicros };
  }
  /** Policy and approvals. Returns how much an approval raises the grant cap (0 when it doesn't). */
  async #decide(attempt: Attempt, context: CallContext): Promise<bigint> {
    const { grant, request, callId } = attempt;
    let approved: string | null = null;
    let raiseMicros = 0n;
    if (request.approvalId) {
      const use = await this.#o.approvals.use(request.approvalId, { callId, grantId: grant.id, taskId: context.taskId, service: request.service.slug, tool: request.tool, priceMicros: request.priceMicros });
      if (use.type === 'pending') throw this.#approvalRequired(request.approvalId, 'The approval is still pending');
      if (use.type === 'denied') throw new TollgateError('approval_denied', `Approval ${request.approvalId} was denied`, { approvalId: request.approvalId });
      if (use.type === 'covered') {
        approved = request.approvalId;
        raiseMicros = use.raiseMicros ?? 0n;
      } else attempt.approvalId = null;
    }
    const outcome = await this.#o.policy.evaluate({
      request, grant, orgId: grant.orgId, projectId: context.projectId, agentId: context.agentId, taskId: context.taskId, limits: context.limits, approvalId: approved,
    });
    attempt.decision = outcome.decision;
    attempt.trace = outcome.trace;
    attempt.ruleId = outcome.ruleId ?? null;
    if (outcome.decision === 'deny') throw new TollgateError('policy_denied', outcome.reason, { rule: outcome.ruleId ?? 'default', reason: outcome.reason });
    if (outcome.decision === 'require_approval') {
      await this.#askApproval(attempt, context, outcome.ruleId ?? 'policy', outcome.reason, outcome.ask?.scope ?? 'call', outcome.ask?.raiseMicros);
    }
    const again = approved ? undefined : reapprovalReason(grant, request);
    if (again) {
      attempt.decision = 'require_approval';
      attempt.ruleId = 'grant:reapproval';
      await this.#askApproval(attempt, context, 'grant:reapproval', again, 'call');
    }
    return raiseMicros;
  }

  async #askApproval(attempt: Attempt, context: CallContext, trigger: string, why: string, scope: 'call' | 'raise_cap', raiseMicros?: bigint): Promise<never> {
    const { grant, request, callId } = attempt;
    await this.#answeredBefore(attempt);
    const approval = await this.#o.approvals.request({
      callId, orgId: grant.orgId, userId: grant.userId, grantId: grant.id, taskId: context.taskId, agentId: context.agentId,
      service: request.service.slug, tool: request.tool, priceMicros: request.priceMicros, reason: request.reason ?? null,
      trigger, ruleId: attempt.ruleId, explanation: why, scope, ...(raiseMicros === undefined ? {} : { raiseMicros }),
    });
    attempt.approvalId = approval.id;
    throw this.#approvalRequired(approval.id, `A person must approve this call: ${why}`, approval.expiresAt);
  }

  /**
   * Throws the call's earlier answer when a request with this key already ran (authorize skipped
   * the read): a retry of a parked call gets the same approval, not a second one.
   */
  async #answeredBefore(attempt: Attempt): Promise<void> {
    if (attempt.request.approvalId) return;
    const row = await this.calls.get(attempt.callId);
    if (!row) return;
    let answer: Authorization | undefined;
    try {
      answer = await this.#existing(row, attempt.request, { reopen: false });
    } catch (error) {
      throw new AnsweredBefore({ error });
    }
    throw new AnsweredBefore({ answer: answer ?? { type: 'in_flight', callId: attempt.callId, retryAfterSeconds: IN_FLIGHT_RETRY_SECONDS } });
  }

  #approvalRequired(approvalId: string, detail: string, expiresAt?: Date): TollgateError {
    return new TollgateError('approval_required', detail, {
      approvalId,
      decideUrl: this.#o.approvalUrl?.(approvalId) ?? `/v1/approvals/${approvalId}`,
      retryAfterSeconds: APPROVAL_RETRY_SECONDS,
      ...(expiresAt ? { expiresAt: expiresAt.toISOString() } : {}),
    });
  }

  /** Places the hold: a free-tier attempt first when the service has one, then the paid chain. */
  async #hold(attempt: Attempt, context: CallContext): Promise<Held> {
    const { request, callId } = attempt;
    if (context.limits.freeCallsPerMonth > 0) {
      const chain = buildHoldChain(context.limits, callId, 0n, 'free');
      const held = await this.#submitHold(attempt, context, chain, 0n, true);
      if (held.type !== 'failed') return held;
      const index = failingIndex(held.results);
      if (chain.steps[index]?.kind !== 'free_tier') throw await this.#refusal(chain, held.results, request.priceMicros, context);
    }
    const chain = buildHoldChain(context.limits, callId, request.priceMicros, 'paid');
    const held = await this.#submitHold(attempt, context, chain, request.priceMicros, false);
    if (held.type !== 'failed') return held;
    throw await this.#refusal(chain, held.results, request.priceMicros, context);
  }

  /** One hold chain, with the call's row in the same ledger transaction. */
  async #submitHold(attempt: Attempt, context: CallContext, chain: HoldChain, holdMicros: bigint, free: boolean): Promise<Held> {
    const { grant, request, callId } = attempt;
    await this.#o.limits.ensure(chain.limits);
    const row: AuthorizedCall = { ...this.#newCall(attempt), holdMicros, context: this.#stored(attempt, context, chain, free) };
    const grantAccount = accountId.grantTotal(grant.id);
    const { results, answer: owned, accounts } = await this.#o.ledger.createTransfersWith(chain.transfers, { writer: this.#authorizedRows, item: row, report: [grantAccount] });
    if (!allOk(results)) {
      if (results.some((r) => TWIN_STATUSES.test(r.status))) return { type: 'twin', answer: await this.#twin(attempt, chain, results) };
      return { type: 'failed', results };
    }
    if (!owned) return { type: 'twin', answer: await this.#twin(attempt, chain, results) };
    this.#remember({
      id: callId, grant_id: grant.id, org_id: grant.orgId, user_id: grant.userId, service_id: request.service.id, task_id: context.taskId,
      fingerprint: request.fingerprint, state: 'authorized', hold_micros: holdMicros, charged_micros: 0n, context: row.context, refusal: null, result: null,
    });
    return { type: 'held', holdMicros, free, remainingMicros: remainingOf(accounts.get(grantAccount)) };
  }

  /**
   * Another request with the same key owns this call (it wrote the row, or placed these holds
   * first). Holds this request created anyway are voided, and it is answered as a retry would be.
   */
  async #twin(attempt: Attempt, chain: HoldChain, results: readonly TransferResult[]): Promise<Authorization> {
    const created = chain.transfers.filter((t, i) => chain.steps[i]!.pending && results[i]?.status === 'created');
    if (created.length > 0) await this.#o.ledger.createTransfers(buildSettleChain({ callId: attempt.callId, holdIds: created.map((t) => t.id), countHoldIds: [], capture: false, chargeMicros: 0n, feeMicros: 0n, sellerId: '' }));
    const row = await this.calls.get(attempt.callId);
    const answer = row ? await this.#existing(row, attempt.request, { reopen: false }) : undefined;
    return answer ?? { type: 'in_flight', callId: attempt.callId, retryAfterSeconds: IN_FLIGHT_RETRY_SECONDS };
  }

  #newCall(attempt: Attempt): NewCall {
    const { grant, request, callId } = attempt;
    return { id: callId, grantId: grant.id, orgId: grant.orgId, userId: grant.userId, serviceId: request.service.id, taskId: attempt.context?.taskId ?? request.taskId ?? grant.taskId, fingerprint: request.fingerprint };
  }

  /** What settle needs to know about the hold, stored on the call's row. */
  #stored(attempt: Attempt, context: CallContext, chain: HoldChain, free: boolean): StoredContext {
    const { request } = attempt;
    return {
      holdIds: chain.transfers.filter((_, i) => chain.steps[i]!.pending).map((t) => t.id),
      countHoldIds: chain.transfers.filter((_, i) => chain.steps[i]!.pending && chain.steps[i]!.count).map((t) => t.id),
      free,
      pricing: request.pricing,
      sellerId: request.service.sellerId,
      currency: context.currency,
      feeBasisPoints: context.feeBasisPoints,
      audit: { request: { service: request.service, tool: request.tool, reason: request.reason, edge: request.edge, priceMicros: request.priceMicros }, projectId: context.projectId, agentId: context.agentId, taskId: context.taskId, decision: attempt.decision, ruleId: attempt.ruleId, trace: attempt.trace, approvalId: attempt.approvalId, holdTransfers: movements(chain.transfers, chain.steps) },
    };
  }

  async #refusal(chain: HoldChain, results: readonly TransferResult[], requested: bigint, context: CallContext): Promise<TollgateError> {
    const index = failingIndex(results);
    const step = chain.steps[index];
    if (!step) return new TollgateError('internal', 'the hold failed without a failing member');
    const [account] = await this.#o.ledger.lookupAccounts([step.accountId]);
    return refusalFor(step, results[index]!, account, requested, context.limits.now);
  }

  async settle(input: SettleInput): Promise<Settlement> {
    const mine = this.#authorizedHere.get(input.callId);
    this.#authorizedHere.delete(input.callId);
    const row = mine ?? (await this.calls.get(input.callId));
    if (!row) throw new TollgateError('not_found', `call ${input.callId} does not exist`, { callId: input.callId });
    if (row.state === 'captured' || row.state === 'voided') return replayOf(row);
    if (row.state !== 'authorized') throw new TollgateError('conflict', `call ${input.callId} is ${row.state}, not authorized`, { callId: input.callId, state: row.state });
    const ctx = row.context;
    const capture = input.status === 'ok' || (input.status === 'tool_error' && input.chargeFailures === true);
    const chargeMicros = capture && !ctx.free ? this.#charge(row, input) : 0n;
    const feeMicros = (chargeMicros * BigInt(ctx.feeBasisPoints)) / 10_000n;
    const postHolds = capture && (chargeMicros > 0n || ctx.free);
    if (postHolds && chargeMicros > 0n) await this.#ensureEarnings(ctx.sellerId, ctx.currency);
    const transfers = buildSettleChain({ callId: row.id, holdIds: ctx.holdIds, countHoldIds: ctx.countHoldIds, capture: postHolds, chargeMicros, feeMicros, sellerId: ctx.sellerId });
    const state = capture ? 'captured' : 'voided';
    const grantAccountId = accountId.grantTotal(row.grant_id);
    const settled: SettledCall = {
      call: { id: row.id, state, chargedMicros: chargeMicros, result: { edge: input.result ?? {}, status: input.status } },
      grantAccountId,
      record: this.#o.audit.prepare({ ...recordBase(row, input), outcome: state, capturedMicros: chargeMicros, feeMicros, transfers: [...storedMovements(ctx), ...movements(transfers)] }),
    };
    const { results, answer: finished, accounts } = await this.#o.ledger.createTransfersWith(transfers, { writer: this.#settledRows, item: settled, report: [grantAccountId] });
    if (!allOk(results)) return this.#settleFailed(row, input, results);
    if (!finished) return replayOf((await this.calls.get(row.id))!);
    return { callId: row.id, outcome: state, chargedMicros: chargeMicros, remainingMicros: remainingOf(accounts.get(grantAccountId)), replay: false };
  }

  #charge(row: CallRow, input: SettleInput): bigint {
    if (row.context.pricing === 'fixed' && input.actualMicros === undefined) return row.hold_micros;
    const actual = input.actualMicros;
    if (actual === undefined) throw new TollgateError('invalid_request', 'actualMicros: a usage-priced call must report its actual amount', { field: 'actualMicros' });
    if (actual < 0n) throw new TollgateError('invalid_amount', 'actualMicros: must not be negative', { field: 'actualMicros' });
    if (actual > row.hold_micros) {
      throw new TollgateError('invalid_amount', `actualMicros: ${formatMicros(actual)} exceeds the hold of ${formatMicros(row.hold_micros)}; a capture can never exceed its hold`, { field: 'actualMicros', hold: formatMicros(row.hold_micros) });
    }
    return actual;
  }

  /** A settle the ledger refused: another settle won the race, or the hold expired first. */
  async #settleFailed(row: CallRow, input: SettleInput, results: readonly TransferResult[]): Promise<Settlement> {
    const statuses = new Set(results.map((r) => r.status));
    if (statuses.has('pending_transfer_already_posted') || statuses.has('pending_transfer_already_voided')) {
      const now = await this.calls.get(row.id);
      if (now && (now.state === 'captured' || now.state === 'voided')) return replayOf(now);
    }
    if (statuses.has('pending_transfer_expired')) return this.expire(row, input);
    throw new TollgateError('internal', `settle of ${row.id} refused by the ledger: ${[...statuses].join(', ')}`);
  }

  /** Records a call whose hold expired before it was settled: nothing is charged. */
  async expire(row: CallRow, input?: SettleInput): Promise<Settlement> {
    const remainingMicros = await this.#remaining(row.grant_id);
    const base = recordBase(row, input ?? { callId: row.id, status: 'cancelled', summary: 'hold expired before the call was settled' });
    await this.#o.audit.append({ ...base, outcome: 'expired', status: 'expired', capturedMicros: 0n, feeMicros: 0n, transfers: storedMovements(row.context) });
    const finished = await this.calls.finish(row.id, 'voided', 0n, { remainingMicros, edge: input?.result ?? {}, status: 'expired' });
    if (!finished) return replayOf((await this.calls.get(row.id))!);
    return { callId: row.id, outcome: 'voided', chargedMicros: 0n, remainingMicros, replay: false };
  }

  /**
   * Cleans up after crashed processes: a claim left `authorizing` is released so its key can be
   * retried, and an `authorized` call whose hold the sweeper expired is recorded as expired.
   */
  async reconcile(options: { staleSeconds?: number; limit?: number } = {}): Promise<{ released: number; expired: number }> {
    const { staleSeconds = 60, limit = 500 } = options;
    const cutoff = new Date(this.#o.now().getTime() - staleSeconds * 1000);
    let released = 0;
    for (const row of await this.calls.stale('authorizing', cutoff, limit)) {
      await this.calls.release(row.id);
      released++;
    }
    let expired = 0;
    for (const row of await this.calls.stale('authorized', cutoff, limit)) {
      const states = await this.#o.ledger.lookupPending(row.context.holdIds);
      if ([...states.values()].some((s) => s === 'expired')) {
        await this.expire(row);
        expired++;
      }
    }
    return { released, expired };
  }

  /**
   * Records a refusal and its audit record, then throws it. When another request with the same key
   * already owns the call, nothing is recorded and this one is answered as a retry would be.
   */
  async #refuse(attempt: Attempt, error: TollgateError): Promise<Authorization> {
    const recorded = await this.calls.refuse(this.#newCall(attempt), { code: error.code, detail: error.message, data: { ...error.data } });
    if (!recorded) {
      const row = await this.calls.get(attempt.callId);
      const answer = row ? await this.#existing(row, attempt.request, { reopen: false }) : undefined;
      return answer ?? { type: 'in_flight', callId: attempt.callId, retryAfterSeconds: IN_FLIGHT_RETRY_SECONDS };
    }
    const { grant, request, context } = attempt;
    await this.#o.audit.append({
      callId: attempt.callId, outcome: 'refused', orgId: grant.orgId, projectId: context?.projectId ?? grant.projectId, userId: grant.userId,
      grantId: grant.id, agentId: context?.agentId ?? request.agentId ?? null, taskId: context?.taskId ?? request.taskId ?? grant.taskId,
      serviceId: request.service.id, service: request.service.slug, sellerId: request.service.sellerId, tool: request.tool,
      reason: request.reason ?? null, edge: request.edge, priceMicros: request.priceMicros, pricing: request.pricing,
      decision: attempt.decision, errorCode: error.code, errorData: { ...error.data, detail: error.message }, policyTrace: attempt.trace,
      ruleId: attempt.ruleId, approvalId: attempt.approvalId, holdMicros: 0n, rail: 'balance', capturedMicros: 0n, feeMicros: 0n,
      status: 'refused', httpStatus: error.status, summary: error.message, latencyMs: null, units: null, transfers: [],
    });
    throw error;
  }

  #remember(row: CallRow): void {
    if (this.#authorizedHere.size >= AUTHORIZED_HERE_MAX) this.#authorizedHere.clear();
    this.#authorizedHere.set(row.id, row);
  }

  async #remaining(grantId: string): Promise<bigint> {
    const account = await this.#accounts.submit(accountId.grantTotal(grantId));
    return account ? account.creditsPosted - account.debitsPosted - account.debitsPending : 0n;
  }

  async #ensureEarnings(sellerId: string, currency: string): Promise<void> {
    if (this.#earnings.has(sellerId)) return;
    await this.#o.ledger.createAccounts([earningsAccount(sellerId, currency)]);
    this.#earnings.add(sellerId);
  }
}

/** Unwinds an authorize that found, part way, that a request with its key already ran. */
class AnsweredBefore {
  constructor(readonly earlier: { answer: Authorization } | { error: unknown }) {}
}

function replayOf(row: CallRow): Settlement {
  return { callId: row.id, outcome: row.state as 'captured' | 'voided', chargedMicros: row.charged_micros, remainingMicros: BigInt(String(row.result?.remainingMicros ?? 0)), replay: true };
}

