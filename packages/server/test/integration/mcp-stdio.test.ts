import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport, getDefaultEnvironment } from '@modelcontextprotocol/sdk/client/stdio.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { ServiceRegistry, openDb, openTollgate } from '@tollgate/core';
import { assertTollgateHealthy } from '@tollgate/core/testing';
import { DEMO_MCP_COMMAND, DEMO_MCP_PRICES } from './mcp-harness.ts';

// The installed command (what npx runs), from a folder where tsx does not resolve.
const BIN_PATH = fileURLToPath(new URL('../../bin/tollgate.mjs', import.meta.url));

test('tollgate mcp without TOLLGATE_URL serves the gateway in-process on the database', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tollgate-mcp-'));
  try {
    let tg = await openTollgate({ db: await openDb(dir) });
    await new ServiceRegistry({ db: tg.db }).create({ slug: 'demo', kind: 'mcp', mcp: { command: DEMO_MCP_COMMAND }, sellerId: 'sel_mcp', prices: DEMO_MCP_PRICES });
    const org = await tg.principals.createOrg({ name: 'Acme' });
    const user = await tg.principals.createUser({ orgId: org.id, name: 'Ada' });
    await tg.wallets.topUp({ ownerId: user.id, amount: '5.00', reference: 'stdio-seed' });
    const { token } = await tg.grants.create({ userId: user.id, totalCap: '1.00', services: ['*'] });
    await tg.close();
    await tg.db.close();

    const client = new Client({ name: 'desktop', version: '1' });
    await client.connect(new StdioClientTransport({
      command: process.execPath, args: [BIN_PATH, 'mcp', '--database', dir], cwd: tmpdir(),
      env: { ...getDefaultEnvironment(), TOLLGATE_TOKEN: token }, stderr: 'ignore',
    }));
    const result = (await client.callTool({ name: 'demo__echo', arguments: { text: 'in-process' } })) as CallToolResult;
    assert.deepEqual(result.content, [{ type: 'text', text: 'in-process' }]);
    assert.equal(result._meta?.['io.tollgate/charge'], '0.01');
    await client.close();
    // The child exits when stdin closes; wait for it to let go of the PGlite folder.
    await new Promise((r) => setTimeout(r, 500));

    tg = await openTollgate({ db: await openDb(dir) });
    const balance = await tg.wallets.balance(user.id);
    assert.equal(balance.availableMicros, 4_990_000n);
    await assertTollgateHealthy(tg);
    await tg.close();
    await tg.db.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
