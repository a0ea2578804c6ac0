/**
 * @module policy/limits
 * Bounds of the rule language. A policy is data that an admin API and a dashboard edit, so every
 * list has a cap: evaluation cost stays a few microseconds and a stored policy stays small.
 */

/** Most rules in one policy set (one scope: an org, a project or a grant). */
export const POLICY_RULES_MAX = 500;
/** Most values in one match list (services, vendors, categories, tools, agents). */
export const MATCH_VALUES_MAX = 100;
/** Longest rule id, name or match value, in characters. */
export const POLICY_ID_LENGTH_MAX = 100;
/** Longest rule description, in characters. */
export const POLICY_DESCRIPTION_LENGTH_MAX = 500;
/** Most named enterprise exception sets per org. */
export const ENTERPRISE_EXCEPTIONS_MAX = 20;
/** Highest rule priority (0 is the default and the lowest). */
export const POLICY_PRIORITY_MAX = 1_000;
/** Most recorded calls one dry run replays. */
export const DRY_RUN_CALLS_MAX = 10_000;
/** Most changed calls a dry run lists one by one (all are still counted). */
export const DRY_RUN_CHANGES_LISTED_MAX = 1_000;

if (DRY_RUN_CHANGES_LISTED_MAX > DRY_RUN_CALLS_MAX) throw new Error('policy/limits: cannot list more changes than calls replayed');
