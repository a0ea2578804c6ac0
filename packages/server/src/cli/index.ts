/**
 * @module cli
 * The `tollgate` command tree. Subcommands are loaded lazily so `tollgate --help` stays fast.
 */
import { defineCommand } from 'citty';

export const main = defineCommand({
  meta: { name: 'tollgate', description: 'Control plane for paid AI-agent calls' },
  subCommands: {
    serve: () => import('./commands/serve.ts').then((m) => m.serve),
    ledger: () => import('./commands/ledger.ts').then((m) => m.ledger),
    audit: () => import('./commands/audit.ts').then((m) => m.audit),
  },
});
