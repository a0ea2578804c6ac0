/**
 * @module db/migrations/008-x402-payments
 * The x402 seller's payment ledger: one row per EIP-3009 authorization (network, asset, payer,
 * nonce) presented to a Tollgate-fronted service.
 *
 * - The row is the in-flight lock: it is inserted before the upstream runs, so concurrent replays of
 *   one signature run the upstream once. `lease_until` frees the lock of a process that died.
 * - `status`: `in_flight` → `settled` | `failed` (the settlement was refused; nothing moved) |
 *   `unknown` (submitted, outcome not known: content withheld, reconciled by `tx_hash`) | `voided`
 *   (the upstream failed; the authorization was never submitted). `failed` and `voided` may be
 *   claimed again by a retry of the same authorization.
 * - `payment_id` is the `payment-identifier` extension's id: unique, with the digest of the payload
 *   it came with, so a retry with the same id and payload gets `response` (the answer it paid for)
 *   and a different payload is a conflict.
 */
import type { Migration } from '../migrate.ts';

export const x402Payments: Migration = {
  id: '008-x402-payments',
  sql: `
CREATE TABLE x402_payments (
  id text PRIMARY KEY,
  network text NOT NULL,
  asset text NOT NULL,
  payer text NOT NULL,
  nonce text NOT NULL,
  service text NOT NULL,
  seller_id text NOT NULL,
  amount_micros bigint NOT NULL CHECK (amount_micros > 0),
  status text NOT NULL CHECK (status IN ('in_flight', 'settled', 'failed', 'unknown', 'voided')),
  payment_id text CHECK (length(payment_id) BETWEEN 16 AND 128),
  payload_digest text NOT NULL,
  tx_hash text,
  error_reason text,
  response jsonb,
  lease_until timestamptz NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  UNIQUE (network, asset, payer, nonce)
);
CREATE UNIQUE INDEX x402_payments_payment_id ON x402_payments (payment_id) WHERE payment_id IS NOT NULL;
CREATE INDEX x402_payments_unknown ON x402_payments (updated_at) WHERE status = 'unknown';
`,
};
