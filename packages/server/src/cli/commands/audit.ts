/**
 * @module cli/commands/audit
 * `tollgate audit verify`: walks the hash chain of paid-call records on a live database and exits
 * non-zero when a record was edited, inserted, deleted or reordered.
 */
import { defineCommand } from 'citty';
import { AuditLog, jsonSafe, openDb } from '@tollgate/core';
import { databaseUrl } from '../database-url.ts';

const verify = defineCommand({
  meta: { name: 'verify', description: 'Verify the audit hash chain; exits 1 on tampering' },
  args: {
    database: { type: 'string', description: 'postgres:// URL or PGlite data folder (default: TOLLGATE_DATABASE_URL or .tollgate/data)' },
    json: { type: 'boolean', description: 'Print the result as JSON' },
  },
  async run({ args }) {
    const db = await openDb(databaseUrl(args.database));
    try {
      const result = await new AuditLog({ db }).verify();
      if (args.json) console.log(JSON.stringify(jsonSafe(result)));
      else if (result.ok) console.log(`audit chain ok: ${result.checked} records, head #${result.headSeq} ${result.headHash.slice(0, 16)}…`);
      else console.error(`audit chain BROKEN at record #${result.firstBadSeq}: ${result.problem} — ${result.detail}`);
      process.exitCode = result.ok ? 0 : 1;
    } finally {
      await db.close();
    }
  },
});

export const audit = defineCommand({
  meta: { name: 'audit', description: 'The tamper-evident record of paid calls' },
  subCommands: { verify },
});
