/**
 * The CLI against a running gateway (HTTP) and against a database folder directly: JSON output,
 * exit codes and the helpful error.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { openPgliteDb, migrate, openTollgate } from '@tollgate/core';
import { pgliteTestDatabase } from '@tollgate/core/testing';
import { startGateway } from '../../test/integration/harness.ts';

const BIN = fileURLToPath(new URL('../bin.ts', import.meta.url));
const run = promisify(execFile);

async function cli(args: string[], env: Record<string, string> = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, ['--import', 'tsx', BIN, ...args], { env: { ...process.env, NODE_NO_WARNINGS: '1', ...env }, timeout: 60_000 });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof e.code === 'number' ? e.code : 1, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
  }
}

test('tollgate grant/wallet/services/calls/approvals/panic against a running server', async () => {
  const gw = await startGateway(pgliteTestDatabase);
  const dir = mkdtempSync(join(tmpdir(), 'tollgate-cli-'));
  try {
    const buyer = await gw.buyer();
    const env = { TOLLGATE_URL: gw.url, TOLLGATE_API_KEY: await gw.adminKey() };
    const created = await cli(['grant', 'create', '--user', buyer.userId, '--cap', '1.00', '--services', 'up', '--json'], env);
    assert.equal(created.code, 0, created.stderr);
    const grant = JSON.parse(created.stdout) as { grant: { id: string }; token: string };
    const paid = await fetch(`${gw.url}/proxy/up/fixed`, { headers: { authorization: `Bearer ${grant.token}` } });
    await paid.arrayBuffer();
    const out = join(dir, 'calls.jsonl');
    const [list, services, topup, calls, approvals, exported, badKey] = await Promise.all([
      cli(['grant', 'list', '--user', buyer.userId, '--json'], env),
      cli(['services', 'list', '--json'], env),
      cli(['wallet', 'topup', buyer.userId, '2.50', '--reference', 'cli-1', '--json'], env),
      cli(['calls', 'list', '--user', buyer.userId, '--json'], env),
      cli(['approvals', 'list', '--json'], env),
      cli(['calls', 'export', '--format', 'jsonl', '--user', buyer.userId, '--out', out], env),
      cli(['grant', 'list'], { ...env, TOLLGATE_API_KEY: 'tg_ak_live_not-a-real-key-at-all' }),
    ]);
    assert.equal(JSON.parse(list.stdout)[0].id, grant.grant.id);
    assert.equal(JSON.parse(services.stdout)[0].slug, 'up');
    assert.ok(!services.stdout.includes('sk-upstream'), 'no credentials in listings');
    assert.equal(JSON.parse(topup.stdout).balance.availableMicros, String(100_000_000n - 10_000n + 2_500_000n));
    assert.equal(JSON.parse(calls.stdout)[0].outcome, 'captured');
    assert.deepEqual(JSON.parse(approvals.stdout), []);
    assert.equal(exported.code, 0, exported.stderr);
    assert.match(exported.stderr, /wrote 1 lines/);
    assert.ok(readFileSync(out, 'utf8').includes(paid.headers.get('x-tollgate-call-id')!));
    assert.equal(badKey.code, 1);
    assert.match(badKey.stderr, /error \(unauthorized\)/);
    assert.match(badKey.stderr, /hint: /);
    const panic = await cli(['panic', buyer.userId, '--json'], env);
    assert.deepEqual(JSON.parse(panic.stdout).revoked, [grant.grant.id]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
    await gw.close();
  }
});

test('tollgate works on a database folder directly (--database)', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tollgate-cli-db-'));
  const dataDir = join(dir, 'data');
  try {
    const db = await openPgliteDb({ dataDir });
    await migrate(db);
    const tg = await openTollgate({ db });
    const org = await tg.principals.createOrg({ name: 'Acme' });
    const user = await tg.principals.createUser({ orgId: org.id, name: 'Ada' });
    await tg.close();
    await db.close();
    const topup = await cli(['wallet', 'topup', user.id, '5.00', '--database', dataDir]);
    assert.equal(topup.code, 0, topup.stderr);
    assert.match(topup.stdout, /available 5\.00 USD/);
    const created = await cli(['grant', 'create', '--user', user.id, '--cap', '2.00', '--database', dataDir, '--json']);
    assert.match(JSON.parse(created.stdout).token, /^tg_live_/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
