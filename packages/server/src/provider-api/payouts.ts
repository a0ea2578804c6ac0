/**
 * @module provider-api/payouts
 * Seller payouts as two-phase ledger transfers `earnings:<seller>` → `external:payouts`: a request
 * holds the amount (so it cannot be paid out twice or spent while pending), `paid` posts the hold
 * with the rail's reference, `failed` voids it and the money is back in earnings. The `payouts` row
 * keeps the state and reference; the ledger is the truth about the money.
 */
import { createHash } from 'node:crypto';
import { LEDGER, SYSTEM_ACCOUNTS, TRANSFER_CODE, TRANSFER_FLAGS, TollgateError, accountId, formatMicros, newId, parseMicros, type Tollgate } from '@tollgate/core';

export interface Payout {
  id: string;
  sellerId: string;
  amountMicros: bigint;
  currency: string;
  status: 'pending' | 'paid' | 'failed';
  reference: string | null;
  failureReason: string | null;
  createdAt: Date;
  decidedAt: Date | null;
}

interface Row {
  id: string;
  seller_id: string;
  amount_micros: bigint | string;
  currency: string;
  status: Payout['status'];
  transfer_id: string;
  reference: string | null;
  failure_reason: string | null;
  created_at: Date;
  decided_at: Date | null;
}

const toPayout = (r: Row): Payout => ({
  id: r.id, sellerId: r.seller_id, amountMicros: BigInt(r.amount_micros), currency: r.currency, status: r.status,
  reference: r.reference, failureReason: r.failure_reason, createdAt: r.created_at, decidedAt: r.decided_at,
});

/** Most payouts one listing returns. */
export const PAYOUTS_PAGE_MAX = 500;

export class Payouts {
  constructor(readonly tg: Tollgate) {}

  /**
   * Holds `amount` of the seller's earnings for a payout; `insufficient_funds` when they have less.
   * With an `idempotencyKey`, a repeat returns the first payout (another amount is a conflict).
   */
  async request(sellerId: string, amount: string, idempotencyKey?: string): Promise<Payout> {
    const amountMicros = parseMicros(amount, { field: 'amount' });
    if (amountMicros <= 0n) throw new TollgateError('invalid_request', 'amount: must be more than zero', { field: 'amount' });
    const id = idempotencyKey ? `po_${createHash('sha256').update(`${sellerId}\n${idempotencyKey}`).digest('hex').slice(0, 24)}` : newId('po');
    if (idempotencyKey) {
      const existing = await this.get(id).catch(() => undefined);
      if (existing && existing.amountMicros !== amountMicros) throw new TollgateError('idempotency_conflict', 'this idempotency key was used for another payout amount', { payoutId: id });
      if (existing) return existing;
    }
    const [account] = await this.tg.ledger.lookupAccounts([accountId.earnings(sellerId)]);
    if (!account) throw new TollgateError('insufficient_funds', `seller ${sellerId} has no earnings yet`, { sellerId, availableMicros: '0' });
    const transferId = `payout:${id}`;
    const [result] = await this.tg.ledger.createTransfers([{
      id: transferId, debitAccountId: account.id, creditAccountId: SYSTEM_ACCOUNTS.externalPayouts, amount: amountMicros,
      ledger: LEDGER.money, code: TRANSFER_CODE.payout, flags: TRANSFER_FLAGS.pending, metadata: { payoutId: id, sellerId },
    }]);
    if (result?.status !== 'created' && result?.status !== 'exists') {
      const available = account.creditsPosted - account.debitsPosted - account.debitsPending;
      throw new TollgateError('insufficient_funds', `Earnings available for a payout: ${formatMicros(available)}`, { sellerId, availableMicros: available.toString(), status: result?.status ?? 'unknown' });
    }
    await this.tg.db.query(
      `INSERT INTO payouts (id, seller_id, amount_micros, currency, status, transfer_id) VALUES ($1, $2, $3, $4, 'pending', $5) ON CONFLICT (id) DO NOTHING`,
      [id, sellerId, amountMicros.toString(), account.currency, transferId],
    );
    return this.get(id);
  }

  /** Posts the hold: the money left for the seller's bank/wallet; `reference` is the rail's id. */
  async markPaid(id: string, reference: string): Promise<Payout> {
    return this.#resolve(id, 'paid', { reference });
  }

  /** Voids the hold: the payout failed and the amount is back in the seller's earnings. */
  async markFailed(id: string, reason: string): Promise<Payout> {
    return this.#resolve(id, 'failed', { reason });
  }

  async get(id: string): Promise<Payout> {
    const [row] = await this.tg.db.query<Row>('SELECT * FROM payouts WHERE id = $1', [id]);
    if (!row) throw new TollgateError('not_found', `no payout ${id}`, { payoutId: id });
    return toPayout(row);
  }

  async list(sellerId?: string, limit = 100): Promise<Payout[]> {
    const rows = await this.tg.db.query<Row>(
      'SELECT * FROM payouts WHERE ($1::text IS NULL OR seller_id = $1) ORDER BY created_at DESC, id DESC LIMIT $2',
      [sellerId ?? null, Math.min(limit, PAYOUTS_PAGE_MAX)],
    );
    return rows.map(toPayout);
  }

  async #resolve(id: string, status: 'paid' | 'failed', detail: { reference?: string; reason?: string }): Promise<Payout> {
    const payout = await this.get(id);
    if (payout.status !== 'pending') {
      if (payout.status === status) return payout;
      throw new TollgateError('conflict', `payout ${id} is already ${payout.status}`, { payoutId: id, status: payout.status });
    }
    const [row] = await this.tg.db.query<{ transfer_id: string }>('SELECT transfer_id FROM payouts WHERE id = $1', [id]);
    const [result] = await this.tg.ledger.createTransfers([{
      id: `${row!.transfer_id}:${status === 'paid' ? 'post' : 'void'}`, pendingId: row!.transfer_id,
      flags: status === 'paid' ? TRANSFER_FLAGS.postPending : TRANSFER_FLAGS.voidPending,
      ...(status === 'paid' ? { amount: payout.amountMicros } : {}),
      metadata: { payoutId: id, ...(detail.reference ? { reference: detail.reference } : {}) },
    }]);
    if (result?.status !== 'created' && result?.status !== 'exists') throw new TollgateError('conflict', `payout ${id}: the ledger refused (${result?.status})`, { payoutId: id });
    await this.tg.db.query(
      `UPDATE payouts SET status = $2, reference = coalesce($3, reference), failure_reason = $4, decided_at = now() WHERE id = $1 AND status = 'pending'`,
      [id, status, detail.reference ?? null, detail.reason ?? null],
    );
    return this.get(id);
  }
}
