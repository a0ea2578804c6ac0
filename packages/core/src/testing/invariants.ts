/**
 * @module testing/invariants
 * The checks every test ends with: the ledger balances (Σ debits = Σ credits per ledger) and no
 * account breaks its flags.
 */
import assert from 'node:assert/strict';
import type { Ledger } from '../ledger/types.ts';

export async function assertLedgerHealthy(ledger: Ledger): Promise<void> {
  const report = await ledger.check();
  assert.deepEqual(report.violations, [], `ledger invariants violated: ${JSON.stringify(report.violations)}`);
  assert.equal(report.ok, true);
}
