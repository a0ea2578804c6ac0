/**
 * @module db/migrations/001-ledger
 * Ledger tables (docs/ledger.md). The state machine in `ledger/state-machine.ts` decides every
 * outcome; the constraints here are the second line of defence: a bug that would overdraw an account,
 * make a balance negative or rewrite history fails the whole batch instead of committing.
 *
 * - `ledger_accounts`: balances and flags. `closed` is the only flag that changes after creation.
 * - `ledger_transfers`: append-only (a trigger refuses UPDATE and DELETE). `seq` orders an account's
 *   history for paging; an identity is unique across processes without an index of its own (one
 *   index fewer on the hottest insert).
 * - `ledger_pending`: the mutable state of each hold, kept apart so transfers stay immutable.
 * - `ledger_failed_transfers`: ids that failed for a transient reason, so a retry answers
 *   `id_already_failed` instead of succeeding later with the same id.
 */
import type { Migration } from '../migrate.ts';

export const ledger: Migration = {
  id: '001-ledger',
  sql: `
CREATE TABLE ledger_accounts (
  id text PRIMARY KEY CHECK (length(id) BETWEEN 1 AND 200),
  ledger integer NOT NULL CHECK (ledger > 0),
  code integer NOT NULL CHECK (code > 0),
  currency text NOT NULL,
  flags integer NOT NULL CHECK (flags >= 0),
  metadata jsonb NOT NULL DEFAULT '{}',
  debits_pending bigint NOT NULL DEFAULT 0 CHECK (debits_pending >= 0),
  debits_posted bigint NOT NULL DEFAULT 0 CHECK (debits_posted >= 0),
  credits_pending bigint NOT NULL DEFAULT 0 CHECK (credits_pending >= 0),
  credits_posted bigint NOT NULL DEFAULT 0 CHECK (credits_posted >= 0),
  timestamp_ms bigint NOT NULL,
  CONSTRAINT ledger_accounts_debits_within_credits
    CHECK (flags & 2 = 0 OR debits_pending + debits_posted <= credits_posted),
  CONSTRAINT ledger_accounts_credits_within_debits
    CHECK (flags & 4 = 0 OR credits_pending + credits_posted <= debits_posted)
);

CREATE TABLE ledger_transfers (
  seq bigint GENERATED ALWAYS AS IDENTITY,
  id text PRIMARY KEY CHECK (length(id) BETWEEN 1 AND 200),
  debit_account_id text NOT NULL,
  credit_account_id text NOT NULL,
  amount bigint NOT NULL CHECK (amount >= 0),
  pending_id text,
  timeout_seconds integer NOT NULL DEFAULT 0 CHECK (timeout_seconds >= 0),
  ledger integer NOT NULL,
  code integer NOT NULL,
  flags integer NOT NULL,
  metadata jsonb NOT NULL DEFAULT '{}',
  timestamp_ms bigint NOT NULL,
  CHECK (debit_account_id <> credit_account_id)
);
CREATE INDEX ledger_transfers_debit ON ledger_transfers (debit_account_id, seq);
CREATE INDEX ledger_transfers_credit ON ledger_transfers (credit_account_id, seq);

CREATE FUNCTION ledger_transfers_immutable() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'ledger_transfers is append-only: % refused', TG_OP;
END $$;
CREATE TRIGGER ledger_transfers_append_only BEFORE UPDATE OR DELETE ON ledger_transfers
  FOR EACH ROW EXECUTE FUNCTION ledger_transfers_immutable();

CREATE TABLE ledger_pending (
  id text PRIMARY KEY,
  debit_account_id text NOT NULL,
  credit_account_id text NOT NULL,
  amount bigint NOT NULL CHECK (amount >= 0),
  flags integer NOT NULL,
  expires_at_ms bigint,
  state text NOT NULL CHECK (state IN ('pending', 'posted', 'voided', 'expired'))
);
CREATE INDEX ledger_pending_expiry ON ledger_pending (expires_at_ms, id) WHERE state = 'pending' AND expires_at_ms IS NOT NULL;

CREATE TABLE ledger_failed_transfers (
  id text PRIMARY KEY,
  status text NOT NULL,
  timestamp_ms bigint NOT NULL
);
`,
};
