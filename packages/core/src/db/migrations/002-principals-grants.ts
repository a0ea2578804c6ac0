/**
 * @module db/migrations/002-principals-grants
 * Orgs, projects, users, agents, grants, policy sets and the per-call idempotency record. Money and
 * limits live in the ledger; these tables hold who is who and what was configured.
 */
import type { Migration } from '../migrate.ts';

export const principalsGrants: Migration = {
  id: '002-principals-grants',
  sql: `
CREATE TABLE orgs (
  id text PRIMARY KEY,
  name text NOT NULL,
  currency text NOT NULL DEFAULT 'USD',
  monthly_limit_micros bigint CHECK (monthly_limit_micros >= 0),
  settings jsonb NOT NULL DEFAULT '{}',
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE projects (
  id text PRIMARY KEY,
  org_id text NOT NULL REFERENCES orgs(id),
  name text NOT NULL,
  monthly_limit_micros bigint CHECK (monthly_limit_micros >= 0),
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE users (
  id text PRIMARY KEY,
  org_id text NOT NULL REFERENCES orgs(id),
  project_id text REFERENCES projects(id),
  name text NOT NULL,
  email text,
  monthly_limit_micros bigint CHECK (monthly_limit_micros >= 0),
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE agents (
  id text PRIMARY KEY,
  user_id text NOT NULL REFERENCES users(id),
  name text NOT NULL,
  trust_level smallint NOT NULL DEFAULT 0 CHECK (trust_level BETWEEN 0 AND 2),
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE service_limits (
  org_id text NOT NULL REFERENCES orgs(id),
  service_id text NOT NULL,
  per_user_monthly_limit_micros bigint NOT NULL CHECK (per_user_monthly_limit_micros >= 0),
  PRIMARY KEY (org_id, service_id)
);
CREATE TABLE grants (
  id text PRIMARY KEY,
  token_hash text NOT NULL UNIQUE,
  token_hint text NOT NULL,
  org_id text NOT NULL REFERENCES orgs(id),
  project_id text REFERENCES projects(id),
  user_id text NOT NULL REFERENCES users(id),
  subject_kind text NOT NULL CHECK (subject_kind IN ('user', 'org', 'project')),
  agent_id text REFERENCES agents(id),
  task_id text,
  parent_id text REFERENCES grants(id),
  depth smallint NOT NULL DEFAULT 0,
  total_cap_micros bigint NOT NULL CHECK (total_cap_micros >= 0),
  per_call_cap_micros bigint CHECK (per_call_cap_micros >= 0),
  rate_per_minute integer CHECK (rate_per_minute > 0),
  services jsonb NOT NULL DEFAULT '[]',
  tools jsonb NOT NULL DEFAULT '[]',
  not_before timestamptz,
  expires_at timestamptz,
  reapproval jsonb NOT NULL DEFAULT '{}',
  tag text,
  metadata jsonb NOT NULL DEFAULT '{}',
  revoked_at timestamptz,
  revoked_reason text,
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX grants_user ON grants (user_id, created_at DESC);
CREATE INDEX grants_parent ON grants (parent_id);
CREATE TABLE policy_sets (
  scope_kind text NOT NULL CHECK (scope_kind IN ('org', 'project', 'grant')),
  scope_id text NOT NULL,
  rules jsonb NOT NULL,
  version integer NOT NULL DEFAULT 1,
  updated_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (scope_kind, scope_id)
);
CREATE TABLE calls (
  id text PRIMARY KEY,
  grant_id text NOT NULL,
  org_id text NOT NULL,
  user_id text NOT NULL,
  service_id text NOT NULL,
  task_id text,
  fingerprint text NOT NULL,
  state text NOT NULL CHECK (state IN ('authorizing', 'authorized', 'captured', 'voided', 'refused')),
  hold_micros bigint NOT NULL DEFAULT 0,
  charged_micros bigint NOT NULL DEFAULT 0,
  context jsonb NOT NULL DEFAULT '{}',
  refusal jsonb,
  result jsonb,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX calls_task ON calls (task_id, state) WHERE task_id IS NOT NULL;
CREATE INDEX calls_org_service ON calls (org_id, service_id, state);
`,
};
