/**
 * @module testing/invariants
 * The checks every test ends with: the ledger balances (Σ debits = Σ credits per ledger) and no
 * account breaks its flags; every captured call has exactly one audit record with the same amount;
 * the audit hash chain verifies.
 */
import assert from 'node:assert/strict';
import type { Ledger } from '../ledger/types.ts';
import type { Tollgate } from '../tollgate.ts';

export async function assertLedgerHealthy(ledger: Ledger): Promise<void> {
  const report = await ledger.check();
  assert.deepEqual(report.violations, [], `ledger invariants violated: ${JSON.stringify(report.violations)}`);
  assert.equal(report.ok, true);
}

export async function assertTollgateHealthy(tg: Tollgate): Promise<void> {
  await assertLedgerHealthy(tg.ledger);
  // A call parked for approval has a `refused` record and, once approved, its final one.
  const unaudited = await tg.db.query<{ id: string; state: string }>(
    `SELECT c.id, c.state FROM calls c
      WHERE c.state IN ('captured', 'voided', 'refused')
        AND NOT EXISTS (SELECT 1 FROM audit_records r WHERE r.call_id = c.id AND
          (r.outcome = c.state OR (c.state = 'voided' AND r.outcome = 'expired')))`,
  );
  assert.deepEqual(unaudited, [], 'every finished call has an audit record of its outcome');
  const mismatched = await tg.db.query<{ id: string }>(
    `SELECT c.id FROM calls c
      WHERE c.state = 'captured'
        AND (SELECT count(*) FROM audit_records r WHERE r.call_id = c.id AND r.outcome = 'captured' AND r.captured_micros = c.charged_micros) <> 1`,
  );
  assert.deepEqual(mismatched, [], 'every charge has exactly one captured record with the amount that moved');
  // What left the payer's wallet for each call, from the ledger itself, equals what the call says it charged.
  const chargedOtherwise = await tg.db.query<{ id: string }>(
    `SELECT c.id FROM calls c
      WHERE c.charged_micros <> (SELECT coalesce(sum(t.amount), 0) FROM ledger_transfers t
              WHERE t.debit_account_id LIKE 'wallet:%' AND t.flags & 4 <> 0
                AND t.pending_id IN (SELECT jsonb_array_elements_text(c.context->'holdIds')))`,
  );
  assert.deepEqual(chargedOtherwise, [], 'no call is charged twice, or other than it recorded');
  const verified = await tg.audit.verify();
  assert.equal(verified.ok, true, `audit chain: ${JSON.stringify(verified, (_k, v) => (typeof v === 'bigint' ? v.toString() : v))}`);
}
