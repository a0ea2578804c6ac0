/**
 * @module db/migrations/013-hot-updates
 * Room on each page for the next version of a row. Every ledger batch rewrites the balances of
 * the accounts it touches; none of those columns is indexed, so with free space on the page
 * PostgreSQL updates them in place (a HOT update: no new primary-key entry, no index bloat to
 * vacuum). Full pages, the default, turn every balance change into a new index entry.
 */
import type { Migration } from '../migrate.ts';

export const hotUpdates: Migration = {
  id: '013-hot-updates',
  sql: `
ALTER TABLE ledger_accounts SET (fillfactor = 70);
`,
};
