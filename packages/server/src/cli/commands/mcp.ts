/**
 * @module cli/commands/mcp
 * `tollgate mcp`: the paid MCP gateway over stdio (see mcp/stdio.ts). Token from `TOLLGATE_TOKEN`;
 * `TOLLGATE_URL` bridges to a running server, else the database is opened directly.
 */
import { defineCommand } from 'citty';
import { serveMcpStdio } from '../../mcp/stdio.ts';
import { databaseUrl } from '../database-url.ts';

export const mcp = defineCommand({
  meta: { name: 'mcp', description: 'Serve the paid MCP gateway over stdio (TOLLGATE_TOKEN; TOLLGATE_URL to use a running server)' },
  args: {
    url: { type: 'string', description: 'Tollgate server to bridge to (TOLLGATE_URL)' },
    database: { type: 'string', description: 'postgres:// URL or PGlite folder when not bridging (TOLLGATE_DATABASE_URL)' },
  },
  async run({ args }) {
    const url = args.url || process.env.TOLLGATE_URL;
    await serveMcpStdio({ token: process.env.TOLLGATE_TOKEN || undefined, ...(url ? { url } : {}), databaseUrl: databaseUrl(args.database) });
  },
});
