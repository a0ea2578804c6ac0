/**
 * @module earnings
 * A payment collected on an external rail (x402, MPP) becomes seller earnings in Tollgate's ledger:
 * one transfer from the rail's external account (`external:rail:<rail>`, which may go negative: the
 * money came from outside) to `earnings:<seller>` and one audit record whose summary names the
 * on-chain reference, committed together in one ledger batch (with the rail's own rows, when it
 * passes some: the x402 payment marked settled). Both are idempotent by the call id: recording
 * twice moves nothing twice.
 * Payouts then work as for any earnings (`provider-api/payouts`).
 */
import {
  ACCOUNT_CODE, ACCOUNT_FLAGS, LEDGER, TRANSFER_CODE, accountId, isSuccess,
  type AttachedEntry, type AttachmentWriter, type AuditInput, type PreparedRecord, type Tollgate,
} from '@tollgate/core';
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

/** Rows a rail commits with its earnings credit: one writer per kind of row (ledger/attachment.ts). */
export interface RailRows<T> {
  writer: AttachmentWriter<T, unknown>;
  item: T;
}

interface Credit {
  record: PreparedRecord;
  rows: RailRows<unknown> | undefined;
}

export class RailEarnings {
  readonly #tg: Tollgate;
  readonly #currency: string;
  readonly #railAccounts = new Map<RailId, Promise<unknown>>();
  /** Earnings accounts known to exist: creating one is a ledger write, not to be paid per call. */
  readonly #earningsAccounts = new Map<string, Promise<unknown>>();
  readonly #credits: AttachmentWriter<Credit, null>;

  constructor(options: { tg: Tollgate; currency?: string }) {
    this.#tg = options.tg;
    this.#currency = options.currency ?? 'USD';
    this.#credits = creditRows(options.tg);
  }

  /**
   * Credits the seller and writes the `captured` audit record in one ledger batch, with `rows` (the
   * rail's own, e.g. its payment marked settled) in the same transaction; returns the ledger
   * transfer id. One commit for all of it, and no crash can leave a credit without its record.
   * Throws when the ledger refuses the transfer; `rows` are committed all the same (the money moved
   * on chain whatever the ledger says), and repeating `record` completes the credit.
   */
  async record<T = never>(p: CollectedPayment, rows?: RailRows<T>): Promise<string> {
    if (p.amountMicros <= 0n) throw new Error('a collected payment moves a positive amount');
    const from = railAccountId(p.rail);
    const to = accountId.earnings(p.sellerId);
    const transferId = `${p.rail}:${p.callId}`;
    const record = this.#tg.audit.prepare(this.#record(p, {
      outcome: 'captured', status: 'ok', decision: 'allow', capturedMicros: p.amountMicros,
      summary: `paid with ${p.rail} on ${p.network}: tx ${p.reference}, payer ${p.payer}`,
      transfers: [{ id: transferId, debit: from, credit: to, amount: p.amountMicros, kind: 'earnings' }],
    }));
    await this.#ensureAccounts(p.rail, p.sellerId);
    const { results: [result] } = await this.#tg.ledger.createTransfersWith([{
      id: transferId, debitAccountId: from, creditAccountId: to, amount: p.amountMicros, ledger: LEDGER.money,
      code: TRANSFER_CODE.earnings, metadata: { rail: p.rail, callId: p.callId, reference: p.reference, payer: p.payer, network: p.network },
    }], { writer: this.#credits, item: { record, rows: rows as RailRows<unknown> | undefined } });
    if (!result || !isSuccess(result.status)) throw new Error(`${p.rail} earnings transfer refused by the ledger: ${result?.status}`);
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

/**
 * Ledger batches of earnings credits: the rails' own rows first, then the audit records of the
 * credits the ledger took (the audit head is locked last, as in every ledger batch).
 */
function creditRows(tg: Tollgate): AttachmentWriter<Credit, null> {
  return {
    async write(tx, entries) {
      const byWriter = new Map<AttachmentWriter<unknown, unknown>, AttachedEntry<unknown>[]>();
      for (const { item, results, account } of entries) {
        if (!item.rows) continue;
        const group = byWriter.get(item.rows.writer) ?? [];
        group.push({ item: item.rows.item, results, account });
        byWriter.set(item.rows.writer, group);
      }
      for (const [writer, group] of byWriter) await writer.write(tx, group);
      const records = entries.filter((e) => e.results.every((r) => isSuccess(r.status))).map((e) => e.item.record);
      if (records.length > 0) await tg.audit.appendIn(tx, records);
      return entries.map(() => null);
    },
  };
}
