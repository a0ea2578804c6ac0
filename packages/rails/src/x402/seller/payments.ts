/**
 * @module x402/seller/payments
 * The `x402_payments` table (migration 008): the in-flight lock on (network, asset, payer, nonce),
 * each payment's settlement state, and the answer a `payment-identifier` retry gets back.
 */
import { TollgateError, type AttachmentWriter, type Db, type Queryable } from '@tollgate/core';

export type PaymentStatus = 'in_flight' | 'settled' | 'failed' | 'unknown' | 'voided';

/** The answer a payment bought, kept so a `payment-identifier` retry (or a reconciled one) gets it. */
export interface StoredAnswer {
  status: number;
  headers: Record<string, string>;
  /** base64; omitted when the answer was larger than the store keeps. */
  body?: string;
  /** Kept back while the settlement's outcome was unknown, and not delivered since. */
  withheld?: boolean;
  /** The settlement it was paid with (sent again as `PAYMENT-RESPONSE`). */
  settlement?: { success: boolean; transaction: string; network: string; payer?: string };
}

export interface PaymentRow {
  id: string;
  network: string;
  asset: string;
  payer: string;
  nonce: string;
  service: string;
  sellerId: string;
  amountMicros: bigint;
  status: PaymentStatus;
  paymentId: string | null;
  payloadDigest: string;
  txHash: string | null;
  errorReason: string | null;
  response: StoredAnswer | null;
}

/** What a claim writes: the payment's identity; its status, tx hash and answer come later. */
export type NewPayment = Omit<PaymentRow, 'status' | 'paymentId' | 'txHash' | 'errorReason' | 'response'> & { paymentId: string | undefined };

export type Claim = { type: 'claimed' } | { type: 'taken'; row: PaymentRow };

/** A payment whose settlement landed: its tx hash, and the answer it bought (kept for retries). */
export interface SettledPayment {
  id: string;
  txHash: string;
  /** Absent: the answer already stored (withheld while the outcome was unknown) is kept. */
  response?: StoredAnswer;
}

interface Row {
  id: string; network: string; asset: string; payer: string; nonce: string; service: string; seller_id: string;
  amount_micros: bigint | string; status: PaymentStatus; payment_id: string | null; payload_digest: string;
  tx_hash: string | null; error_reason: string | null; response: StoredAnswer | null;
}

const toRow = (r: Row): PaymentRow => ({
  id: r.id, network: r.network, asset: r.asset, payer: r.payer, nonce: r.nonce, service: r.service, sellerId: r.seller_id,
  amountMicros: BigInt(r.amount_micros), status: r.status, paymentId: r.payment_id, payloadDigest: r.payload_digest,
  txHash: r.tx_hash, errorReason: r.error_reason, response: r.response,
});

export class X402Payments {
  readonly #db: Db;
  readonly #leaseSeconds: number;

  constructor(db: Db, options: { leaseSeconds?: number } = {}) {
    this.#db = db;
    this.#leaseSeconds = options.leaseSeconds ?? 600;
  }

  /**
   * Takes the in-flight lock: inserts the payment, or re-claims one that was voided, failed, or
   * whose lock holder died. Otherwise returns the row as it stands.
   */
  async claim(p: NewPayment): Promise<Claim> {
    try {
      const claimed = await this.#db.query<{ id: string }>(
        `INSERT INTO x402_payments (id, network, asset, payer, nonce, service, seller_id, amount_micros, status, payment_id, payload_digest, lease_until)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 'in_flight', $9, $10, now() + make_interval(secs => $11))
         ON CONFLICT (id) DO UPDATE SET status = 'in_flight', lease_until = EXCLUDED.lease_until, payment_id = EXCLUDED.payment_id,
           payload_digest = EXCLUDED.payload_digest, error_reason = NULL, updated_at = now()
         WHERE x402_payments.status IN ('voided', 'failed') OR (x402_payments.status = 'in_flight' AND x402_payments.lease_until < now())
         RETURNING id`,
        [p.id, p.network, p.asset, p.payer, p.nonce, p.service, p.sellerId, p.amountMicros.toString(), p.paymentId ?? null, p.payloadDigest, this.#leaseSeconds],
      );
      if (claimed.length > 0) return { type: 'claimed' };
    } catch (error) {
      if (isUniqueViolation(error)) throw new TollgateError('idempotency_conflict', 'this payment-identifier was used with a different payment', { field: 'extensions.payment-identifier.info.id' });
      throw error;
    }
    const row = await this.get(p.id);
    if (!row) throw new Error(`x402 payment ${p.id} vanished while being claimed`);
    return { type: 'taken', row };
  }

  async get(id: string): Promise<PaymentRow | undefined> {
    const [row] = await this.#db.query<Row>('SELECT * FROM x402_payments WHERE id = $1', [id]);
    return row ? toRow(row) : undefined;
  }

  /** Payments settled in the last `sinceHours`, oldest first (at most 10,000). */
  async settledSince(sinceHours: number): Promise<PaymentRow[]> {
    const rows = await this.#db.query<Row>(
      `SELECT * FROM x402_payments WHERE status = 'settled' AND updated_at > now() - make_interval(hours => $1) ORDER BY updated_at LIMIT 10000`,
      [sinceHours],
    );
    return rows.map(toRow);
  }

  /** Claims the delivery of a withheld answer: true for the one caller that gets it. */
  async release(id: string): Promise<boolean> {
    const rows = await this.#db.query<{ id: string }>(
      `UPDATE x402_payments SET response = response - 'withheld', updated_at = now() WHERE id = $1 AND status = 'settled' AND response ? 'withheld' RETURNING id`,
      [id],
    );
    return rows.length > 0;
  }

  /** Payments whose settlement was submitted with an unknown outcome, oldest first (at most 1,000). */
  async unknown(): Promise<PaymentRow[]> {
    const rows = await this.#db.query<Row>(`SELECT * FROM x402_payments WHERE status = 'unknown' AND tx_hash IS NOT NULL ORDER BY updated_at LIMIT 1000`);
    return rows.map(toRow);
  }

  async byPaymentId(paymentId: string): Promise<PaymentRow | undefined> {
    const [row] = await this.#db.query<Row>('SELECT * FROM x402_payments WHERE payment_id = $1', [paymentId]);
    return row ? toRow(row) : undefined;
  }

  /** Moves a claimed payment to an outcome other than settled (only from `in_flight` or `unknown`). */
  async finish(id: string, status: Exclude<PaymentStatus, 'in_flight' | 'settled'>, detail: { txHash?: string; errorReason?: string; response?: StoredAnswer } = {}): Promise<void> {
    await this.#db.query(
      `UPDATE x402_payments SET status = $2, tx_hash = coalesce($3, tx_hash), error_reason = $4, response = coalesce($5::jsonb, response), updated_at = now()
       WHERE id = $1 AND status IN ('in_flight', 'unknown')`,
      [id, status, detail.txHash ?? null, detail.errorReason ?? null, detail.response ? JSON.stringify(detail.response) : null],
    );
  }

  /**
   * Moves payments to `settled` (only from `in_flight` or `unknown`), their answers stamped with the
   * settlement a retry is sent again; in `q`, a transaction of the caller's, or on its own.
   */
  async settle(payments: readonly SettledPayment[], q: Queryable = this.#db): Promise<void> {
    if (payments.length === 0) return;
    const ids = payments.map((p) => p.id);
    await q.query(
      `UPDATE x402_payments p SET status = 'settled', tx_hash = u.tx_hash, error_reason = NULL, updated_at = now(),
         response = CASE WHEN coalesce(u.response, p.response) IS NULL THEN NULL
           ELSE jsonb_set(coalesce(u.response, p.response), '{settlement}', jsonb_build_object('success', true, 'transaction', u.tx_hash, 'network', p.network, 'payer', p.payer)) END
       FROM unnest($1::text[], $2::text[], $3::jsonb[]) AS u(id, tx_hash, response)
       WHERE p.id = ANY($1::text[]) AND p.id = u.id AND p.status IN ('in_flight', 'unknown')`,
      [ids, payments.map((p) => p.txHash), payments.map((p) => (p.response ? JSON.stringify(p.response) : null))],
    );
  }

  /**
   * For ledger batches (`RailEarnings.record`): the payments are marked settled in the transaction
   * that credits their earnings, whatever the ledger decided about the credit (the money moved).
   */
  readonly settledRows: AttachmentWriter<SettledPayment, null> = {
    write: async (tx, entries) => {
      await this.settle(entries.map((e) => e.item), tx);
      return entries.map(() => null);
    },
  };
}

function isUniqueViolation(error: unknown): boolean {
  return (error as { code?: string } | null)?.code === '23505';
}
