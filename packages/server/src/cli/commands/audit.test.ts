import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openDb, openTollgate } from '@tollgate/core';
import { callRequest, grantFor, seedBuyer } from '@tollgate/core/testing';

const bin = join(import.meta.dirname, '../../bin.ts');

function tollgate(...args: string[]) {
  return spawnSync(process.execPath, ['--import', 'tsx', bin, ...args], { encoding: 'utf8', env: { ...process.env, NODE_NO_WARNINGS: '1' } });
}

test('tollgate audit verify passes on an honest chain and exits 1 once a record is edited', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tollgate-audit-'));
  try {
    const db = await openDb(dir);
    const tg = await openTollgate({ db });
    const buyer = await seedBuyer(tg);
    const token = await grantFor(tg, buyer);
    for (let i = 0; i < 3; i++) {
      const auth = await tg.guard.authorize(callRequest(token));
      if (auth.type === 'authorized') await tg.guard.settle({ callId: auth.callId, status: 'ok' });
    }
    await tg.close();
    await db.close();

    const honest = tollgate('audit', 'verify', '--database', dir, '--json');
    assert.equal(honest.status, 0, honest.stderr);
    assert.equal(JSON.parse(honest.stdout).checked, 3);

    const again = await openDb(dir);
    await again.query(`UPDATE audit_records SET captured_micros = 1 WHERE seq = 2`);
    await again.close();
    const tampered = tollgate('audit', 'verify', '--database', dir);
    assert.equal(tampered.status, 1);
    assert.match(tampered.stderr, /BROKEN at record #2: edited/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
