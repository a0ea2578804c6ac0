/**
 * @module tollgate
 * The facade every edge and the CLI open: one object holding the ledger, principals, wallets,
 * grants, limits, policies, approvals, the audit log and the budget guard, wired together over
 * one database.
 */
import { Approvals, approvalPort } from './approvals/index.ts';
import { AuditLog, auditPort } from './audit/index.ts';
import type { Db } from './db/db.ts';
import { Grants } from './grants/grants.ts';
import { BudgetGuard } from './guard/budget-guard.ts';
import { openLedger } from './ledger/index.ts';
import type { AttachingLedger } from './ledger/attachment.ts';
import type { Ledger } from './ledger/types.ts';
import { LimitBook } from './limits/limit-book.ts';
import { LimitSettings } from './limits/limit-settings.ts';
import { Policies } from './policy/store.ts';
import { policyPort } from './policy/port.ts';
import { dryRunOrgPolicy, type RecordedDryRun } from './policy/dry-run-recorded.ts';
import type { PolicyInput } from './policy/schemas.ts';
import { Principals } from './principals/principals.ts';
import { Wallets } from './principals/wallets.ts';
import { Webhooks } from './webhooks/index.ts';

export interface TollgateOptions {
  db: Db;
  /** The clock; tests move it. */
  now?: () => Date;
  /** The ledger currency of system accounts created before any org exists. */
  currency?: string;
  /** Where a person decides an approval (shown in `approval_required`). */
  approvalUrl?: (approvalId: string) => string;
}

export interface Tollgate {
  readonly db: Db;
  /** Transfers may carry rows that commit with them (ledger/attachment.ts): rails credit earnings that way. */
  readonly ledger: Ledger & AttachingLedger;
  readonly principals: Principals;
  readonly wallets: Wallets;
  readonly grants: Grants;
  readonly limits: LimitSettings;
  readonly limitBook: LimitBook;
  readonly policies: Policies;
  readonly approvals: Approvals;
  readonly webhooks: Webhooks;
  readonly audit: AuditLog;
  readonly guard: BudgetGuard;
  /** Replays the org's last `lastCalls` recorded calls through a proposed policy; says which decisions change. */
  dryRunPolicy(orgId: string, proposed: PolicyInput, lastCalls?: number): Promise<RecordedDryRun>;
  close(): Promise<void>;
}

export async function openTollgate(options: TollgateOptions): Promise<Tollgate> {
  const { db } = options;
  const now = options.now ?? (() => new Date());
  const ledger = await openLedger(db, { now: () => BigInt(now().getTime()) });
  const limitBook = new LimitBook(ledger, options.currency ?? 'USD');
  const grants = new Grants({ db, ledger, limits: limitBook, now });
  const policies = new Policies(db, () => now().getTime());
  const webhooks = new Webhooks(db, { now });
  const approvals = new Approvals(db, { now, webhooks });
  const audit = new AuditLog({ db, now });
  const guard = new BudgetGuard({
    db, ledger, grants, limits: limitBook, now,
    audit: auditPort(audit),
    approvals: approvalPort(approvals),
    // The policy port reads the guard's own call records (first paid call in a task, …), so it is
    // bound after the guard exists.
    policy: { evaluate: (input) => policy.evaluate(input) },
    ...(options.approvalUrl ? { approvalUrl: options.approvalUrl } : {}),
  });
  const policy = policyPort({ policies, calls: guard.calls, ledger });
  return {
    db, ledger, grants, limitBook, policies, approvals, webhooks, audit, guard,
    principals: new Principals(db, ledger),
    wallets: new Wallets(ledger),
    limits: new LimitSettings(db),
    dryRunPolicy: (orgId, proposed, lastCalls = 1_000) => dryRunOrgPolicy({ db, audit, policies, orgId, proposed, lastCalls }),
    async close() {
      await ledger.close();
    },
  };
}
