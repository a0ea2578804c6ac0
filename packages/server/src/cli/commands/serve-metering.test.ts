import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { LocalStripe } from '@tollgate/rails/stripe';

const BIN = join(import.meta.dirname, '../../bin.ts');
const TSX = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;

test('tollgate serve takes quotas and the Stripe export from its configuration', async () => {
  const stripe = new LocalStripe({ secretKey: 'sk_test_serve', eventName: 'tollgate_spend', customers: ['cus_demo'] });
  await stripe.start();
  // A folder of its own: the demo writes its token and admin key under ./.tollgate.
  const child = spawn(process.execPath, ['--import', TSX, BIN, 'serve', '--database', 'memory://', '--demo'], {
    cwd: mkdtempSync(join(tmpdir(), 'tollgate-serve-')),
    env: {
      ...process.env, TOLLGATE_PORT: '0', TOLLGATE_LOG_LEVEL: 'warn', TOLLGATE_QUOTA_LIMIT: '2', TOLLGATE_QUOTA_WINDOW_SECONDS: '86400',
      TOLLGATE_STRIPE_SECRET_KEY: 'sk_test_serve', TOLLGATE_STRIPE_METER_EVENT_NAME: 'tollgate_spend', TOLLGATE_STRIPE_API_BASE: stripe.url, TOLLGATE_USAGE_EXPORT_INTERVAL_MS: '200',
    },
  });
  let out = '';
  child.stdout.on('data', (d: Buffer) => { out += d.toString(); });
  child.stderr.on('data', (d: Buffer) => { out += d.toString(); });
  try {
    const deadline = Date.now() + 240_000;
    while (!/Admin API key[^\n]*\n\s+\S+/.test(out)) {
      assert.ok(Date.now() < deadline && child.exitCode === null, `serve did not start:\n${out}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    const url = out.match(/Tollgate is running at (\S+)/)![1]!;
    const token = out.match(/Demo grant token[^\n]*\n\s+(\S+)/)![1]!;
    const admin = out.match(/Admin API key[^\n]*\n\s+(\S+)/)![1]!;
    const orgId = out.match(/org (org_[a-z0-9]+)/)![1]!;
    const mapped = await fetch(`${url}/v1/stripe/customers/org/${orgId}`, { method: 'POST', headers: { 'x-api-key': admin, 'content-type': 'application/json' }, body: JSON.stringify({ customerId: 'cus_demo' }) });
    assert.equal(mapped.status, 200);
    const statuses: number[] = [];
    const callIds: string[] = [];
    for (let i = 0; i < 3; i++) {
      const res = await fetch(`${url}/proxy/search/search?q=tollgate`, { headers: { authorization: `Bearer ${token}` } });
      statuses.push(res.status);
      if (res.status === 200) callIds.push(res.headers.get('x-tollgate-call-id')!);
      await res.arrayBuffer();
    }
    assert.deepEqual(statuses, [200, 200, 429], 'a quota of 2 calls');
    while (stripe.events.length < 2) {
      assert.ok(Date.now() < deadline, `Stripe got ${stripe.events.length} events`);
      await new Promise((r) => setTimeout(r, 100));
    }
    assert.deepEqual(stripe.events.map((e) => [e.identifier, e.customerId, e.value]), callIds.map((id) => [id, 'cus_demo', '10000']));
  } finally {
    child.kill('SIGTERM');
    await new Promise((r) => (child.exitCode === null ? child.on('exit', r) : r(undefined)));
    await stripe.close();
  }
});
