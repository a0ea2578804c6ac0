/**
 * @module policy/store
 * Where policies live: the org's whole policy (rules, approval triggers, default decision) and the
 * extra rules of a project or a grant, as JSON validated on the way in. `load` compiles what applies
 * to one call, with a short in-process cache so the hot path does not re-read unchanged rules.
 */
import type { Db } from '../db/db.ts';
import { TtlCache } from '../batching/ttl-cache.ts';
import { configEpoch } from '../batching/config-epoch.ts';
import { invalid } from '../errors.ts';
import { combinePolicy, parsePolicy, parsePolicyRules } from './compile.ts';
import type { PolicyInput, PolicyRuleInput } from './schemas.ts';
import type { Policy } from './types.ts';

/**
 * How long a compiled policy is reused at most; a change in any process drops it within
 * `CONFIG_FRESH_MS` (batching/config-epoch.ts).
 */
export const POLICY_CACHE_MS = 60_000;
const POLICY_CACHE_ENTRIES_MAX = 10_000;

export interface PolicyScope {
  orgId: string;
  projectId: string | null;
  grantId: string;
}

interface Row {
  scope_kind: 'org' | 'project' | 'grant';
  scope_id: string;
  rules: unknown;
}

export class Policies {
  readonly #db: Db;
  readonly #cache: TtlCache<Policy>;

  constructor(db: Db, now: () => number = Date.now) {
    this.#db = db;
    this.#cache = new TtlCache({ ttlMs: POLICY_CACHE_MS, entriesMax: POLICY_CACHE_ENTRIES_MAX, now, generations: configEpoch(db) });
  }

  /** Replaces the org's policy: its rules, approval triggers and default decision. */
  async setOrgPolicy(orgId: string, input: PolicyInput): Promise<Policy> {
    const policy = parsePolicy(input);
    const wrong = policy.rules.findIndex((r) => r.level !== 'org');
    if (wrong >= 0) throw invalid(`rules.${wrong}.level`, 'must be org in an org policy');
    await this.#put('org', orgId, input);
    return policy;
  }

  /** Replaces the extra rules of a project or a grant. */
  async setRules(level: 'project' | 'grant', scopeId: string, rules: PolicyRuleInput[]): Promise<void> {
    parsePolicyRules(rules, { level });
    await this.#put(level, scopeId, rules);
  }

  async get(level: 'org' | 'project' | 'grant', scopeId: string): Promise<unknown> {
    const [row] = await this.#db.query<Row>('SELECT rules FROM policy_sets WHERE scope_kind = $1 AND scope_id = $2', [level, scopeId]);
    return row?.rules ?? null;
  }

  /** The compiled policy for a call: the org's, plus the project's and the grant's rules. */
  async load(scope: PolicyScope): Promise<Policy> {
    return this.#cache.load(`${scope.orgId}|${scope.projectId ?? ''}|${scope.grantId}`, () => this.#read(scope));
  }

  async #read(scope: PolicyScope): Promise<Policy> {
    const rows = await this.#db.query<Row>(
      `SELECT scope_kind, scope_id, rules FROM policy_sets
        WHERE (scope_kind = 'org' AND scope_id = $1) OR (scope_kind = 'project' AND scope_id = $2) OR (scope_kind = 'grant' AND scope_id = $3)`,
      [scope.orgId, scope.projectId ?? '', scope.grantId],
    );
    const find = (kind: Row['scope_kind']) => rows.find((r) => r.scope_kind === kind)?.rules;
    const org = find('org');
    const base = org ? parsePolicy(org) : combinePolicy({});
    const project = find('project');
    const grant = find('grant');
    return combinePolicy({
      rules: [base.rules, project ? parsePolicyRules(project, { level: 'project' }) : [], grant ? parsePolicyRules(grant, { level: 'grant' }) : []],
      triggers: base.triggers,
      defaultDecision: base.defaultDecision,
    });
  }

  async #put(level: Row['scope_kind'], scopeId: string, value: unknown): Promise<void> {
    if (!scopeId) throw invalid('scopeId', 'is required');
    await this.#db.query(
      `INSERT INTO policy_sets (scope_kind, scope_id, rules) VALUES ($1, $2, $3)
       ON CONFLICT (scope_kind, scope_id) DO UPDATE SET rules = EXCLUDED.rules, version = policy_sets.version + 1, updated_at = now()`,
      [level, scopeId, JSON.stringify(value)],
    );
    configEpoch(this.#db).bump();
  }
}
