import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { migrate, openLedger, openPgliteDb } from '@tollgate/core';

const BIN = fileURLToPath(new URL('../../bin.ts', import.meta.url));

function cli(dataDir: string): { status: number | null; report: { ok: boolean; violations: { rule: string }[] } } {
  const run = spawnSync(process.execPath, ['--import', 'tsx', BIN, 'ledger', 'check', '--database', dataDir, '--json'], { encoding: 'utf8' });
  return { status: run.status, report: JSON.parse(run.stdout.trim().split('\n').at(-1)!) };
}

test('tollgate ledger check: exit 0 on a healthy ledger, 1 with the violations listed on a broken one', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tollgate-ledger-cli-'));
  const dataDir = join(dir, 'data');
  try {
    const db = await openPgliteDb({ dataDir });
    await migrate(db);
    const ledger = await openLedger(db);
    await ledger.createAccounts([
      { id: 'a', ledger: 1, code: 1, currency: 'USD' },
      { id: 'b', ledger: 1, code: 1, currency: 'USD' },
    ]);
    await ledger.createTransfers([{ id: 't', debitAccountId: 'a', creditAccountId: 'b', amount: 5n }]);
    await ledger.close();
    await db.close();
    const healthy = cli(dataDir);
    assert.equal(healthy.status, 0);
    assert.equal(healthy.report.ok, true);

    const broken = await openPgliteDb({ dataDir });
    await broken.query(`UPDATE ledger_accounts SET credits_posted = 6 WHERE id = 'b'`);
    await broken.close();
    const failed = cli(dataDir);
    assert.equal(failed.status, 1);
    assert.deepEqual(failed.report.violations.map((v) => v.rule).sort(), ['balance_matches_history', 'double_entry_posted']);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
