/**
 * @module db/migrations/012-config-epoch
 * One counter that every write to cached configuration bumps (batching/config-epoch.ts), so caches
 * in every process can tell "nothing changed" with one tiny read. Statement-level triggers: a
 * write of many rows bumps once, and no code path can change these tables without bumping.
 */
import type { Migration } from '../migrate.ts';

const CACHED_TABLES = ['orgs', 'projects', 'users', 'agents', 'service_limits', 'policy_sets', 'grants', 'quota_limits'];

export const configEpoch: Migration = {
  id: '012-config-epoch',
  sql: `
CREATE TABLE config_epoch (
  id integer PRIMARY KEY CHECK (id = 1),
  epoch bigint NOT NULL
);
INSERT INTO config_epoch (id, epoch) VALUES (1, 0);

CREATE FUNCTION config_epoch_bump() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  UPDATE config_epoch SET epoch = epoch + 1 WHERE id = 1;
  RETURN NULL;
END $$;
${CACHED_TABLES.map((t) => `CREATE TRIGGER ${t}_config_epoch AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON ${t}
  FOR EACH STATEMENT EXECUTE FUNCTION config_epoch_bump();`).join('\n')}
`,
};
