/**
 * @module cli/commands/ledger
 * `tollgate ledger check`: runs the ledger's invariant check on a live database (Σ debits = Σ credits
 * per ledger, no account breaks its flags, every balance equals the sums recomputed from stored
 * transfers and holds) and exits non-zero on a violation, so it can gate a deploy or page someone.
 */
import { defineCommand } from 'citty';
import { openDb, openLedger } from '@tollgate/core';
import { databaseUrl } from '../database-url.ts';

const check = defineCommand({
  meta: { name: 'check', description: 'Check the ledger invariants; exits 1 on a violation' },
  args: {
    database: { type: 'string', description: 'postgres:// URL or PGlite data folder' },
    json: { type: 'boolean', description: 'Print the report as JSON' },
  },
  async run({ args }) {
    const url = databaseUrl(args.database);
    const db = await openDb(url);
    try {
      const ledger = await openLedger(db);
      const report = await ledger.check();
      await ledger.close();
      if (args.json) {
        console.log(JSON.stringify(report));
      } else {
        console.log(`ledger check (${db.kind}): ${report.accounts} accounts, ${report.transfers} transfers, ${report.pendingHolds} pending holds`);
        for (const v of report.violations) console.log(`  VIOLATION ${v.rule}: ${v.detail}`);
        console.log(report.ok ? 'ok: double entry balances and every account keeps its flags' : `FAILED: ${report.violations.length} violation(s)`);
      }
      if (!report.ok) process.exitCode = 1;
    } finally {
      await db.close();
    }
  },
});

export const ledger = defineCommand({
  meta: { name: 'ledger', description: 'Inspect the ledger' },
  subCommands: { check },
});
