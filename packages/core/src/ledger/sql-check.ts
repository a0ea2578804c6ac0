/**
 * @module ledger/sql-check
 * `check()` for the SQL store: the rules of `ledger/check.ts`, computed by the database so it works
 * on a live ledger of any size. Sums are returned as text because Postgres widens bigint sums to
 * numeric, which `pg` would hand back as a string anyway.
 */
import type { Queryable } from '../db/db.ts';
import { flagViolations, ledgerViolations, VIOLATIONS_REPORTED_MAX } from './check.ts';
import { ACCOUNT_COLUMNS, toAccount, type AccountRow } from './sql-rows.ts';
import type { InvariantReport, InvariantViolation } from './types.ts';

const PER_LEDGER_SQL = `
SELECT ledger, sum(debits_pending)::text AS dp, sum(debits_posted)::text AS dpo,
       sum(credits_pending)::text AS cp, sum(credits_posted)::text AS cpo
FROM ledger_accounts GROUP BY ledger ORDER BY ledger`;

// Flags 2|8 = pending|void: those transfers never move posted money.
const MISMATCH_SQL = `
WITH moves AS (
  SELECT debit_account_id AS id, amount AS dpo, 0::bigint AS cpo, 0::bigint AS dp, 0::bigint AS cp FROM ledger_transfers WHERE flags & 10 = 0
  UNION ALL SELECT credit_account_id, 0, amount, 0, 0 FROM ledger_transfers WHERE flags & 10 = 0
  UNION ALL SELECT debit_account_id, 0, 0, amount, 0 FROM ledger_pending WHERE state = 'pending'
  UNION ALL SELECT credit_account_id, 0, 0, 0, amount FROM ledger_pending WHERE state = 'pending'
),
sums AS (
  SELECT id, sum(dp)::text AS dp, sum(dpo)::text AS dpo, sum(cp)::text AS cp, sum(cpo)::text AS cpo FROM moves GROUP BY id
)
SELECT a.id, a.debits_pending::text AS a_dp, a.debits_posted::text AS a_dpo, a.credits_pending::text AS a_cp, a.credits_posted::text AS a_cpo,
       coalesce(s.dp, '0') AS dp, coalesce(s.dpo, '0') AS dpo, coalesce(s.cp, '0') AS cp, coalesce(s.cpo, '0') AS cpo
FROM ledger_accounts a LEFT JOIN sums s ON s.id = a.id
WHERE a.debits_pending::text <> coalesce(s.dp, '0') OR a.debits_posted::text <> coalesce(s.dpo, '0')
   OR a.credits_pending::text <> coalesce(s.cp, '0') OR a.credits_posted::text <> coalesce(s.cpo, '0')
LIMIT ${VIOLATIONS_REPORTED_MAX}`;

const FLAGS_SQL = `
SELECT ${ACCOUNT_COLUMNS} FROM ledger_accounts
WHERE (flags & 2 <> 0 AND debits_pending + debits_posted > credits_posted)
   OR (flags & 4 <> 0 AND credits_pending + credits_posted > debits_posted)
LIMIT ${VIOLATIONS_REPORTED_MAX}`;

const COUNTS_SQL = `
SELECT (SELECT count(*) FROM ledger_accounts)::int AS accounts,
       (SELECT count(*) FROM ledger_transfers)::int AS transfers,
       (SELECT count(*) FROM ledger_pending WHERE state = 'pending')::int AS pending`;

interface SumRow {
  ledger: number;
  dp: string;
  dpo: string;
  cp: string;
  cpo: string;
}

interface MismatchRow extends Omit<SumRow, 'ledger'> {
  id: string;
  a_dp: string;
  a_dpo: string;
  a_cp: string;
  a_cpo: string;
}

function mismatches(r: MismatchRow): InvariantViolation[] {
  const pairs = [['debitsPending', r.a_dp, r.dp], ['debitsPosted', r.a_dpo, r.dpo], ['creditsPending', r.a_cp, r.cp], ['creditsPosted', r.a_cpo, r.cpo]] as const;
  return pairs
    .filter(([, stored, summed]) => stored !== summed)
    .map(([column, stored, summed]) => ({ rule: 'balance_matches_history', detail: `account ${r.id}: ${column} ${stored} but transfers sum to ${summed}` }));
}

/** Runs every check in one read-only transaction, so the figures agree with each other. */
export function sqlCheck(db: { transaction: <T>(fn: (tx: Queryable) => Promise<T>) => Promise<T> }): Promise<InvariantReport> {
  return db.transaction(async (tx) => {
    await tx.query('SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY');
    const violations: InvariantViolation[] = [];
    for (const r of await tx.query<SumRow>(PER_LEDGER_SQL)) {
      const sums = { debitsPending: BigInt(r.dp), debitsPosted: BigInt(r.dpo), creditsPending: BigInt(r.cp), creditsPosted: BigInt(r.cpo) };
      violations.push(...ledgerViolations(r.ledger, sums));
    }
    for (const r of await tx.query<AccountRow>(FLAGS_SQL)) violations.push(...flagViolations(toAccount(r)));
    for (const r of await tx.query<MismatchRow>(MISMATCH_SQL)) violations.push(...mismatches(r));
    const [counts] = await tx.query<{ accounts: number; transfers: number; pending: number }>(COUNTS_SQL);
    return {
      ok: violations.length === 0,
      accounts: counts?.accounts ?? 0,
      transfers: counts?.transfers ?? 0,
      pendingHolds: counts?.pending ?? 0,
      violations: violations.slice(0, VIOLATIONS_REPORTED_MAX),
    };
  });
}
