/**
 * @module policy/dry-run
 * "What would this policy change have done?": replays recorded calls' facts through the old and the
 * new policy and reports every call whose decision changes, with the rule that decides each side.
 * Pure and synchronous; the caller loads the last N recorded calls (at most `DRY_RUN_CALLS_MAX`).
 */
import { invalid } from '../errors.ts';
import { evaluatePolicy } from './evaluate.ts';
import { DRY_RUN_CALLS_MAX, DRY_RUN_CHANGES_LISTED_MAX } from './limits.ts';
import type { Policy, PolicyEffect, PolicyFacts, PolicyLevel, PolicyRule } from './types.ts';

/** Recorded facts of one call; `callId` makes the report point at the audit record. */
export type RecordedFacts = PolicyFacts & { callId?: string };

export interface DecisionSide {
  decision: PolicyEffect;
  /** The deciding rule or trigger; absent when the default decided. */
  rule?: { id: string; level: PolicyLevel };
  reason: string;
}

export interface DecisionChange {
  /** Position in the replayed list. */
  index: number;
  callId?: string;
  from: DecisionSide;
  to: DecisionSide;
}

export interface DryRunReport {
  /** Calls replayed. */
  total: number;
  /** Calls whose decision changes. */
  changed: number;
  unchanged: number;
  /** Same decision, but a different rule now decides it (the reason a user sees changes). */
  reattributed: number;
  /** Changes counted by transition, e.g. `{ "allow->deny": 3 }`. */
  transitions: Record<string, number>;
  /** The changed calls, in order, at most `DRY_RUN_CHANGES_LISTED_MAX`. */
  changes: DecisionChange[];
  /** True when more calls changed than are listed. */
  truncated: boolean;
}

type PolicyLike = Policy | readonly PolicyRule[];

/** Compares the decisions of `oldPolicy` and `newPolicy` on every recorded call. */
export function dryRunPolicy(oldPolicy: PolicyLike, newPolicy: PolicyLike, recorded: readonly RecordedFacts[]): DryRunReport {
  if (recorded.length > DRY_RUN_CALLS_MAX) throw invalid('calls', `a dry run replays at most ${DRY_RUN_CALLS_MAX} calls (got ${recorded.length})`);
  const report: DryRunReport = { total: recorded.length, changed: 0, unchanged: 0, reattributed: 0, transitions: {}, changes: [], truncated: false };
  recorded.forEach((facts, index) => {
    const from = side(evaluatePolicy(oldPolicy, facts));
    const to = side(evaluatePolicy(newPolicy, facts));
    if (from.decision === to.decision) {
      report.unchanged++;
      if (from.rule?.id !== to.rule?.id) report.reattributed++;
      return;
    }
    report.changed++;
    const key = `${from.decision}->${to.decision}`;
    report.transitions[key] = (report.transitions[key] ?? 0) + 1;
    if (report.changes.length >= DRY_RUN_CHANGES_LISTED_MAX) {
      report.truncated = true;
      return;
    }
    report.changes.push({ index, ...(facts.callId === undefined ? {} : { callId: facts.callId }), from, to });
  });
  return report;
}

function side(d: ReturnType<typeof evaluatePolicy>): DecisionSide {
  return d.rule === undefined ? { decision: d.decision, reason: d.reason } : { decision: d.decision, rule: d.rule, reason: d.reason };
}
