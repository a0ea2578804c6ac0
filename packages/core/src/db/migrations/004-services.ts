/**
 * @module db/migrations/004-services
 * The service registry (paid upstreams, their prices and their server-side credentials) and the
 * admin API keys. Credentials live in their own column so no query that lists services needs to
 * read them; API keys are stored as SHA-256 hashes only.
 */
import type { Migration } from '../migrate.ts';

export const services: Migration = {
  id: '004-services',
  sql: `
CREATE TABLE services (
  id text PRIMARY KEY,
  slug text NOT NULL UNIQUE,
  kind text NOT NULL CHECK (kind IN ('http', 'mcp')),
  name text NOT NULL,
  base_url text,
  mcp jsonb,
  seller_id text NOT NULL,
  category text NOT NULL,
  sensitivity text NOT NULL CHECK (sensitivity IN ('low', 'medium', 'high')),
  free_calls_per_month integer NOT NULL DEFAULT 0 CHECK (free_calls_per_month >= 0),
  charge_failed_calls boolean NOT NULL DEFAULT false,
  timeout_ms integer NOT NULL DEFAULT 30000 CHECK (timeout_ms > 0),
  prices jsonb NOT NULL DEFAULT '[]',
  credentials jsonb NOT NULL DEFAULT '{}',
  metadata jsonb NOT NULL DEFAULT '{}',
  disabled_at timestamptz,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX services_seller ON services (seller_id);
CREATE TABLE api_keys (
  id text PRIMARY KEY,
  key_hash text NOT NULL UNIQUE,
  key_hint text NOT NULL,
  name text NOT NULL,
  role text NOT NULL CHECK (role IN ('admin', 'buyer', 'seller')),
  org_id text,
  user_id text,
  seller_id text,
  last_used_at timestamptz,
  revoked_at timestamptz,
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE settings (
  key text PRIMARY KEY,
  value jsonb NOT NULL,
  updated_at timestamptz NOT NULL DEFAULT now()
);
`,
};
