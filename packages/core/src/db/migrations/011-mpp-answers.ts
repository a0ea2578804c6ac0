/**
 * @module db/migrations/011-mpp-answers
 * MPP `Idempotency-Key` (core spec §"Idempotency and Side Effects"): a paid answer is kept with the
 * challenge it was paid with, so a retry of the same credential and key gets the same answer
 * instead of a second payment or a refusal.
 */
import type { Migration } from '../migrate.ts';

export const mppAnswers: Migration = {
  id: '011-mpp-answers',
  sql: `
ALTER TABLE mpp_used_challenges ADD COLUMN idempotency_key text CHECK (length(idempotency_key) BETWEEN 1 AND 200);
ALTER TABLE mpp_used_challenges ADD COLUMN answer text;
`,
};
