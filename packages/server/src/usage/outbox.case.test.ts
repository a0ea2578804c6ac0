import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { openTollgate, type Tollgate, type UsageEvent, type UsageRejection, type UsageSink } from '@tollgate/core';
import { assertTollgateHealthy, callRequest, grantFor, seedBuyer, testDatabases, type Buyer, type TestDb } from '@tollgate/core/testing';
import { MemoryUsageSink, OutboxDrainer, UsageExporter, UsageOutbox } from './index.ts';
import { FlakySink } from './test-helpers.ts';

for (const engine of testDatabases) {
  describe(`usage outbox on ${engine.kind}`, { skip: engine.skip }, () => {
    let db: TestDb;
    let tg: Tollgate;
    let buyer: Buyer;
    let token: string;
    before(async () => {
      db = await engine.open();
      tg = await openTollgate({ db });
      buyer = await seedBuyer(tg);
      token = await grantFor(tg, buyer, { totalCap: '50.00' });
    });
    after(async () => {
      await assertTollgateHealthy(tg);
      await tg.close();
      await db.close();
    });

    /** `n` paid calls captured through the guard; returns their call ids. */
    async function capture(n: number, status: 'ok' | 'upstream_failed' = 'ok'): Promise<string[]> {
      const ids: string[] = [];
      for (let i = 0; i < n; i++) {
        const auth = await tg.guard.authorize(callRequest(token, { priceMicros: 10_000n }));
        assert.equal(auth.type, 'authorized');
        if (auth.type !== 'authorized') continue;
        await tg.guard.settle({ callId: auth.callId, status, units: 3n, latencyMs: 7 });
        ids.push(auth.callId);
      }
      return ids;
    }

    async function captured(): Promise<string[]> {
      return (await db.query<{ call_id: string }>("SELECT call_id FROM audit_records WHERE outcome = 'captured' ORDER BY seq")).map((r) => r.call_id);
    }

    test('each capture enters the outbox once, keyed by its call id; voided and refused calls do not', async () => {
      const paid = await capture(3);
      await capture(2, 'upstream_failed');
      const outbox = new UsageOutbox(db);
      assert.equal(await outbox.fill(), 3);
      assert.equal(await outbox.fill(), 0, 'filling again copies nothing');
      const entries = await outbox.read(0n, 100);
      assert.deepEqual(entries.map((e) => e.event.id), paid);
      const [first] = entries;
      assert.equal(first!.event.callId, paid[0]);
      assert.equal(first!.event.principalId, buyer.userId);
      assert.equal(first!.event.orgId, buyer.orgId);
      assert.equal(first!.event.chargeMicros, 10_000n);
      assert.equal(first!.event.units, 3n);
      assert.equal(first!.event.status, 'ok');
    });

    test('a sink that fails, then recovers, gets every capture exactly once, in order', async () => {
      await capture(4);
      const flaky = new FlakySink({ failFirst: 3 });
      const exporter = new UsageExporter({ db, sinks: { flaky }, backoff: { baseMs: 1, delayMsMax: 5 }, drainer: { batchMax: 2 } });
      for (let round = 0; round < 50 && flaky.taken.length < (await captured()).length; round++) {
        await exporter.runOnce();
        await new Promise((r) => setTimeout(r, 6));
      }
      assert.ok(flaky.attempts > 3, 'it failed before it recovered');
      assert.deepEqual(flaky.taken.map((e) => e.id), await captured(), 'all captures, none twice, in capture order');
      const [cursor] = await db.query<{ failures: number; last_error: string | null }>("SELECT failures, last_error FROM usage_exports WHERE sink = 'flaky'");
      assert.deepEqual(cursor, { failures: 0, last_error: null });
      await exporter.stop();
    });

    test('a delivery whose answer was lost is sent again with the same ids, and the sink keeps each once', async () => {
      await capture(3);
      const memory = new MemoryUsageSink();
      let lost = 1;
      // Takes the batch, then fails as if the acknowledgement timed out.
      const forgetful: UsageSink = {
        write: (e) => memory.write(e),
        async writeBatch(events) {
          await memory.writeBatch(events);
          if (lost-- > 0) throw new Error('timeout after delivery');
          return [];
        },
      };
      const drainer = new OutboxDrainer({ db, outbox: new UsageOutbox(db), name: 'forgetful', sink: forgetful });
      await new UsageOutbox(db).fill();
      await assert.rejects(drainer.drain(), /timeout after delivery/);
      await drainer.drain();
      assert.ok(memory.duplicates > 0, 'the batch was delivered twice');
      assert.deepEqual(memory.events.map((e) => e.id), await captured(), 'and counted once');
    });

    test('one process drains a sink at a time; the lease passes on when released', async () => {
      await capture(1);
      const outbox = new UsageOutbox(db);
      await outbox.fill();
      const a = new OutboxDrainer({ db, outbox, name: 'leased', sink: new MemoryUsageSink(), batchMax: 1 });
      const bSink = new MemoryUsageSink();
      const b = new OutboxDrainer({ db, outbox, name: 'leased', sink: bSink });
      assert.equal((await a.step()).type, 'delivered');
      assert.equal((await b.step()).type, 'leased_elsewhere');
      await a.release();
      await b.drain();
      assert.equal(bSink.events.length, (await captured()).length - 1, 'b continues after what a delivered');
    });

    test('captures racing two exporters (two processes) reach each sink once, in capture order', async () => {
      const sinks = [new MemoryUsageSink(), new MemoryUsageSink()];
      // Two exporters with the same sink names, as two gateway processes would have.
      const exporters = [0, 1].map(() => new UsageExporter({ db, sinks: { 'race-a': sinks[0]!, 'race-b': sinks[1]! }, backoff: { baseMs: 1, delayMsMax: 5 } }));
      let capturing = true;
      const rounds = exporters.map(async (exporter) => {
        while (capturing) await exporter.runOnce();
      });
      await Promise.all(Array.from({ length: 4 }, () => capture(8)));
      capturing = false;
      await Promise.all(rounds);
      // The second process stops (giving its leases up); the first catches up with the rest.
      await exporters[1]!.stop();
      await exporters[0]!.runOnce();
      await exporters[0]!.stop();
      const all = await captured();
      for (const sink of sinks) {
        assert.deepEqual(sink.events.map((e) => e.id), all, 'every capture, in capture order');
      }
      const [row] = await db.query<{ outbox: bigint }>('SELECT count(*) AS outbox FROM usage_outbox');
      assert.equal(Number(row!.outbox), all.length);
    });

    test('an event a sink refuses for good is set aside and does not block the ones behind it', async () => {
      const ids = await capture(3);
      await new UsageOutbox(db).fill();
      const memory = new MemoryUsageSink();
      const picky: UsageSink = {
        write: (e) => memory.write(e),
        async writeBatch(events: readonly UsageEvent[]): Promise<readonly UsageRejection[]> {
          const bad = events.filter((e) => e.id === ids[1]);
          await memory.writeBatch(events.filter((e) => e.id !== ids[1]));
          return bad.map((e) => ({ id: e.id!, reason: 'no customer' }));
        },
      };
      await new OutboxDrainer({ db, outbox: new UsageOutbox(db), name: 'picky', sink: picky }).drain();
      const all = await captured();
      assert.deepEqual(memory.events.map((e) => e.id), all.filter((id) => id !== ids[1]));
      const rejects = await db.query<{ capture_id: string; reason: string }>("SELECT capture_id, reason FROM usage_export_rejects WHERE sink = 'picky'");
      assert.deepEqual(rejects, [{ capture_id: ids[1], reason: 'no customer' }]);
    });
  });
}
