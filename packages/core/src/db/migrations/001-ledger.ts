/**
 * @module db/migrations/001-ledger
 * Ledger tables. (Filled in by the ledger engine work.)
 */
import type { Migration } from '../migrate.ts';

export const ledger: Migration = {
  id: '001-ledger',
  sql: `SELECT 1;`,
};
