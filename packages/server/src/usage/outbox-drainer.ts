/**
 * @module usage/outbox-drainer
 * Delivers the outbox to one downstream sink: read the rows after the sink's cursor, hand them to
 * the sink, move the cursor. Delivery is at least once (a crash between delivering and moving the
 * cursor sends the batch again) and every event carries its capture id as `id`, the idempotency
 * key the sink dedupes on (Stripe's `identifier`, the Redis stream's marker), so each capture is
 * counted downstream exactly once.
 *
 * One process drains a sink at a time: the cursor row carries a lease (owner, expiry) taken with a
 * conditional UPDATE; a process that dies loses it when it expires. A sink that refuses an event
 * for good (bad data) gets it set aside in `usage_export_rejects` in the same transaction that
 * moves the cursor, so one poison event never blocks the ones behind it.
 */
import { randomBytes } from 'node:crypto';
import type { Db, UsageRejection, UsageSink } from '@tollgate/core';
import { deliver } from './deliver.ts';
import type { UsageOutbox } from './outbox.ts';

/** Most events one delivery carries. */
export const DRAIN_BATCH_MAX = 100;
/** How long a drainer owns a sink's cursor without renewing it. */
export const DRAIN_LEASE_MS = 30_000;

export interface OutboxDrainerOptions {
  db: Db;
  outbox: UsageOutbox;
  /** Stable name of the sink: its cursor's key (`stripe`, `redis:tollgate:usage`, …). */
  name: string;
  sink: UsageSink;
  batchMax?: number;
  leaseMs?: number;
  /** This process's lease owner id. */
  owner?: string;
}

export type DrainStep =
  | { type: 'idle' }
  | { type: 'leased_elsewhere' }
  | { type: 'delivered'; delivered: number; rejected: readonly UsageRejection[] };

export class OutboxDrainer {
  readonly name: string;
  readonly #o: Required<OutboxDrainerOptions>;

  constructor(options: OutboxDrainerOptions) {
    this.name = options.name;
    this.#o = { batchMax: DRAIN_BATCH_MAX, leaseMs: DRAIN_LEASE_MS, owner: `drainer_${randomBytes(6).toString('hex')}`, ...options };
  }

  /** Delivers everything up to the end of the outbox; rejects on the first failed delivery (nothing skipped). */
  async drain(): Promise<number> {
    let delivered = 0;
    for (;;) {
      const step = await this.step();
      if (step.type !== 'delivered') return delivered;
      delivered += step.delivered;
    }
  }

  /** One batch. */
  async step(): Promise<DrainStep> {
    const cursor = await this.#lease();
    if (cursor === undefined) return { type: 'leased_elsewhere' };
    const entries = await this.#o.outbox.read(cursor, this.#o.batchMax);
    if (entries.length === 0) return { type: 'idle' };
    let rejected: readonly UsageRejection[];
    try {
      rejected = await deliver(this.#o.sink, entries.map((e) => e.event));
    } catch (error) {
      await this.#o.db.query('UPDATE usage_exports SET failures = failures + 1, last_error = $2, updated_at = now() WHERE sink = $1', [this.name, String((error as Error)?.message ?? error).slice(0, 500)]);
      throw error;
    }
    await this.#advance(entries.at(-1)!.seq, rejected);
    return { type: 'delivered', delivered: entries.length - rejected.length, rejected };
  }

  /** Takes or renews the lease; the sink's cursor, or undefined when another process holds it. */
  async #lease(): Promise<bigint | undefined> {
    await this.#o.db.query('INSERT INTO usage_exports (sink) VALUES ($1) ON CONFLICT (sink) DO NOTHING', [this.name]);
    const [row] = await this.#o.db.query<{ audit_seq: bigint }>(
      `UPDATE usage_exports SET lease_owner = $2, lease_until = now() + make_interval(secs => $3::double precision / 1000)
        WHERE sink = $1 AND (lease_owner IS NULL OR lease_owner = $2 OR lease_until < now())
        RETURNING audit_seq`,
      [this.name, this.#o.owner, this.#o.leaseMs],
    );
    return row ? BigInt(row.audit_seq) : undefined;
  }

  async #advance(seq: bigint, rejected: readonly UsageRejection[]): Promise<void> {
    await this.#o.db.transaction(async (tx) => {
      if (rejected.length > 0) {
        await tx.query(
          `INSERT INTO usage_export_rejects (sink, capture_id, reason)
           SELECT $1, r.id, r.reason FROM jsonb_to_recordset($2::jsonb) AS r(id text, reason text)
           ON CONFLICT (sink, capture_id) DO NOTHING`,
          [this.name, JSON.stringify(rejected.map((r) => ({ id: r.id, reason: r.reason.slice(0, 500) })))],
        );
      }
      // Only while we still hold the lease: a drainer that lost it leaves the cursor to the new owner.
      await tx.query(
        `UPDATE usage_exports SET audit_seq = $3, failures = 0, last_error = NULL, updated_at = now()
          WHERE sink = $1 AND lease_owner = $2 AND audit_seq < $3`,
        [this.name, this.#o.owner, seq],
      );
    });
  }

  /** Gives the lease up (on shutdown), so another process can take over at once. */
  async release(): Promise<void> {
    await this.#o.db.query('UPDATE usage_exports SET lease_owner = NULL, lease_until = NULL WHERE sink = $1 AND lease_owner = $2', [this.name, this.#o.owner]);
  }
}
