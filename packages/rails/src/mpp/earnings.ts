/**
 * @module mpp/earnings
 * A payment settled on the MPP rail becomes seller earnings in Tollgate's ledger: one transfer from
 * the rail's external account to the seller's earnings account, then one `captured` audit record
 * with `rail: "mpp"` whose summary names the on-chain reference (transaction hash, channel id).
 * Both are idempotent by the settlement's id, so recording a settlement twice moves nothing twice.
 */
import { createHash } from 'node:crypto';
import { ACCOUNT_CODE, ACCOUNT_FLAGS, LEDGER, TRANSFER_CODE, accountId, type Tollgate } from '@tollgate/core';

/** The ledger account value arrives from on the MPP rail (it may go negative: money from outside). */
export const MPP_RAIL_ACCOUNT = 'external:rail:mpp';

export interface EarningsEntry {
  /** Unique per settlement (e.g. `charge:<challengeId>`, `session:<channelId>:close`). */
  id: string;
  sellerId: string;
  serviceId: string;
  /** Service slug. */
  service: string;
  /** `METHOD /path` or the MCP tool. */
  tool: string;
  edge: 'http' | 'mcp';
  amountMicros: bigint;
  /** `evm/charge` or `evm/session`. */
  kind: string;
  /** Transaction hash of the settlement. */
  txHash: string;
  channelId?: string;
  payer: string;
  /** Calls paid by this settlement (1 for a charge, the session's count for a channel). */
  calls: number;
  latencyMs?: number;
}

export interface RailEarningsOptions {
  tg: Tollgate;
  /** Ledger currency of new accounts (one token base unit = one micro-unit of it). */
  currency: string;
}

export class MppEarnings {
  readonly #tg: Tollgate;
  readonly #currency: string;
  #railAccount: Promise<void> | undefined;

  constructor(options: RailEarningsOptions) {
    this.#tg = options.tg;
    this.#currency = options.currency;
  }

  /** Credits the seller and writes the audit record; returns the ledger transfer id. */
  async record(s: EarningsEntry): Promise<string> {
    if (s.amountMicros <= 0n) throw new Error('a settlement moves a positive amount');
    const earnings = accountId.earnings(s.sellerId);
    await this.#ensureAccounts(s.sellerId);
    const transferId = `mpp:${s.id}`;
    const reference = s.channelId ? { channelId: s.channelId, txHash: s.txHash } : { txHash: s.txHash };
    const [result] = await this.#tg.ledger.createTransfers([{
      id: transferId, debitAccountId: MPP_RAIL_ACCOUNT, creditAccountId: earnings, amount: s.amountMicros,
      ledger: LEDGER.money, code: TRANSFER_CODE.earnings, metadata: { rail: 'mpp', kind: s.kind, payer: s.payer, ...reference },
    }]);
    if (result?.status !== 'created' && result?.status !== 'exists') throw new Error(`mpp earnings transfer refused by the ledger: ${result?.status}`);
    await this.#tg.audit.append({
      callId: `mpp_${createHash('sha256').update(s.id).digest('hex').slice(0, 32)}`,
      outcome: 'captured', orgId: null, projectId: null, userId: null, grantId: null, agentId: null, taskId: null,
      serviceId: s.serviceId, service: s.service, sellerId: s.sellerId, tool: s.tool, reason: null, edge: s.edge,
      priceMicros: s.amountMicros, pricing: 'fixed', decision: 'allow', ruleId: null, errorCode: null, errorData: null,
      policyTrace: [], approvalId: null, holdMicros: 0n, rail: 'mpp', capturedMicros: s.amountMicros, feeMicros: 0n,
      status: 'ok', httpStatus: null,
      summary: `${s.kind} settled on chain: ${s.channelId ? `channel ${s.channelId}, ` : ''}tx ${s.txHash}, payer ${s.payer}, ${s.calls} call${s.calls === 1 ? '' : 's'}`,
      latencyMs: s.latencyMs ?? null, units: BigInt(s.calls),
      transfers: [{ id: transferId, debit: MPP_RAIL_ACCOUNT, credit: earnings, amount: s.amountMicros, kind: 'earnings' }],
    });
    return transferId;
  }

  async #ensureAccounts(sellerId: string): Promise<void> {
    this.#railAccount ??= this.#tg.ledger.createAccounts([
      { id: MPP_RAIL_ACCOUNT, ledger: LEDGER.money, code: ACCOUNT_CODE.externalFunding, currency: this.#currency, flags: 0, metadata: { rail: 'mpp' } },
    ]).then(() => undefined);
    await this.#railAccount;
    await this.#tg.ledger.createAccounts([{
      id: accountId.earnings(sellerId), ledger: LEDGER.money, code: ACCOUNT_CODE.earnings, currency: this.#currency,
      flags: ACCOUNT_FLAGS.debitsMustNotExceedCredits, metadata: { sellerId },
    }]);
  }
}
