/**
 * @module db/migrations/009-mpp-challenges
 * MPP's single-use store: one row per Payment challenge (or other proof) a Tollgate process has
 * accepted, so a credential is used once across every gateway process and across restarts. The
 * row lives until the challenge expires (`until`); after that the challenge fails its expiry check
 * anyway, and the row may be reused or swept.
 */
import type { Migration } from '../migrate.ts';

export const mppChallenges: Migration = {
  id: '009-mpp-challenges',
  sql: `
CREATE TABLE mpp_used_challenges (
  key text PRIMARY KEY CHECK (length(key) BETWEEN 1 AND 300),
  until timestamptz NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX mpp_used_challenges_until ON mpp_used_challenges (until);
`,
};
