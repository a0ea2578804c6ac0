/**
 * @module cli
 * The `tollgate` command tree. Subcommands are loaded lazily so `tollgate --help` stays fast.
 */
import { defineCommand } from 'citty';

export const main = defineCommand({
  meta: { name: 'tollgate', description: 'Control plane for paid AI-agent calls' },
  subCommands: {
    serve: () => import('./commands/serve.ts').then((m) => m.serve),
    grant: () => import('./commands/grant.ts').then((m) => m.grant),
    panic: () => import('./commands/panic.ts').then((m) => m.panic),
    approvals: () => import('./commands/approvals.ts').then((m) => m.approvals),
    services: () => import('./commands/services.ts').then((m) => m.services),
    wallet: () => import('./commands/wallet.ts').then((m) => m.wallet),
    calls: () => import('./commands/calls.ts').then((m) => m.calls),
    ledger: () => import('./commands/ledger.ts').then((m) => m.ledger),
    audit: () => import('./commands/audit.ts').then((m) => m.audit),
    mcp: () => import('./commands/mcp.ts').then((m) => m.mcp),
    payouts: () => import('./commands/payouts.ts').then((m) => m.payouts),
  },
});
