/**
 * @module earnings
 * A payment collected on an external rail (x402, MPP) becomes seller earnings in Tollgate's ledger:
 * one transfer from the rail's external account (`external:rail:<rail>`, which may go negative: the
 * money came from outside) to `earnings:<seller>`, then one audit record whose summary names the
 * on-chain reference (written first). Both are idempotent by the call id: recording twice moves
 * nothing twice.
 * Payouts then work as for any earnings (`provider-api/payouts`).
 */
import { ACCOUNT_CODE, ACCOUNT_FLAGS, LEDGER, TRANSFER_CODE, accountId, type AuditInput, type Tollgate } from '@tollgate/core';
import type { RailId } from './rail.ts';

export const railAccountId = (rail: RailId): string => `external:rail:${rail}`;

export interface CollectedPayment {
  rail: RailId;
  /** The call id this payment paid for (also the audit record's call id). */
  callId: string;
  sellerId: string;
  serviceId: string;
  /** Service slug. */
  service: string;
  tool: string;
  edge: 'http' | 'mcp';
  amountMicros: bigint;
  /** Transaction hash (or the rail's reference). */
  reference: string;
  payer: string;
  /** `eip155:8453`, … */
  network: string;
  latencyMs?: number;
  httpStatus?: number;
}

export class RailEarnings {
  readonly #tg: Tollgate;
  readonly #currency: string;
  readonly #railAccounts = new Map<RailId, Promise<unknown>>();
  /** Earnings accounts known to exist: creating one is a ledger write, not to be paid per call. */
  readonly #earningsAccounts = new Map<string, Promise<unknown>>();

  constructor(options: { tg: Tollgate; currency?: string }) {
    this.#tg = options.tg;
    this.#currency = options.currency ?? 'USD';
  }

  /**
   * Writes the `captured` audit record, then credits the seller; returns the ledger transfer id.
   * In that order so credited earnings always have their record; a crash in between leaves a
   * record without its credit, which repeating `record` (the x402 seller's start-up sweep) completes.
   */
  async record(p: CollectedPayment): Promise<string> {
    if (p.amountMicros <= 0n) throw new Error('a collected payment moves a positive amount');
    const from = railAccountId(p.rail);
    const to = accountId.earnings(p.sellerId);
    const transferId = `${p.rail}:${p.callId}`;
    await Promise.all([
      this.#ensureAccounts(p.rail, p.sellerId),
      this.#tg.audit.append(this.#record(p, {
        outcome: 'captured', status: 'ok', decision: 'allow', capturedMicros: p.amountMicros,
        summary: `paid with ${p.rail} on ${p.network}: tx ${p.reference}, payer ${p.payer}`,
        transfers: [{ id: transferId, debit: from, credit: to, amount: p.amountMicros, kind: 'earnings' }],
      })),
    ]);
    const [result] = await this.#tg.ledger.createTransfers([{
      id: transferId, debitAccountId: from, creditAccountId: to, amount: p.amountMicros, ledger: LEDGER.money,
      code: TRANSFER_CODE.earnings, metadata: { rail: p.rail, callId: p.callId, reference: p.reference, payer: p.payer, network: p.network },
    }]);
    if (result?.status !== 'created' && result?.status !== 'exists') throw new Error(`${p.rail} earnings transfer refused by the ledger: ${result?.status}`);
    return transferId;
  }

  /**
   * Records a payment that did not land: `failed` (the rail refused it; nothing moved) or `unknown`
   * (submitted, outcome not known). Neither is a refusal for insufficient funds: the code says which.
   */
  async recordUncollected(p: Omit<CollectedPayment, 'reference'> & { reference?: string; code: string; reason: string }): Promise<void> {
    await this.#tg.audit.append(this.#record({ ...p, reference: p.reference ?? '' }, {
      outcome: 'refused', status: 'refused', decision: `refused_${p.code}`, capturedMicros: 0n, errorCode: p.code,
      errorData: { reason: p.reason, payer: p.payer, network: p.network, ...(p.reference ? { reference: p.reference } : {}) },
      summary: `${p.rail} settlement ${p.code === `${p.rail}_settlement_unknown` ? 'outcome unknown' : 'failed'}: ${p.reason}${p.reference ? `, tx ${p.reference}` : ''}; content withheld`,
      transfers: [],
    }));
  }

  #record(p: CollectedPayment, fields: Pick<AuditInput, 'outcome' | 'status' | 'decision' | 'capturedMicros' | 'summary' | 'transfers'> & Partial<AuditInput>): AuditInput {
    return {
      callId: p.callId, orgId: null, projectId: null, userId: null, grantId: null, agentId: null, taskId: null,
      serviceId: p.serviceId, service: p.service, sellerId: p.sellerId, tool: p.tool, reason: null, edge: p.edge,
      priceMicros: p.amountMicros, pricing: 'fixed', ruleId: null, errorCode: null, errorData: null, policyTrace: [],
      approvalId: null, holdMicros: 0n, rail: p.rail, feeMicros: 0n, httpStatus: p.httpStatus ?? null,
      latencyMs: p.latencyMs ?? null, units: null,
      ...fields,
    };
  }

  async #ensureAccounts(rail: RailId, sellerId: string): Promise<void> {
    let railAccount = this.#railAccounts.get(rail);
    if (!railAccount) {
      railAccount = this.#tg.ledger.createAccounts([{ id: railAccountId(rail), ledger: LEDGER.money, code: ACCOUNT_CODE.externalFunding, currency: this.#currency, flags: 0, metadata: { rail } }]);
      this.#railAccounts.set(rail, railAccount);
    }
    let earnings = this.#earningsAccounts.get(sellerId);
    if (!earnings) {
      earnings = this.#tg.ledger.createAccounts([{
        id: accountId.earnings(sellerId), ledger: LEDGER.money, code: ACCOUNT_CODE.earnings, currency: this.#currency,
        flags: ACCOUNT_FLAGS.debitsMustNotExceedCredits, metadata: { sellerId },
      }]);
      // A failed creation is retried by the next payment rather than remembered.
      earnings.catch(() => this.#earningsAccounts.delete(sellerId));
      if (this.#earningsAccounts.size < 100_000) this.#earningsAccounts.set(sellerId, earnings);
    }
    await Promise.all([railAccount, earnings]);
  }
}
