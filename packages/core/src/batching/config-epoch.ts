/**
 * @module batching/config-epoch
 * How a process learns that configuration changed in another one. Every write to a table the hot
 * path caches (orgs, projects, users, agents, service limits, policies, grants, quotas) bumps one counter
 * in the database (a statement trigger, migration 012, so no writer can forget it). Caches tagged
 * with the epoch's generation drop everything when the counter moves; the counter itself is read
 * at most once per `CONFIG_FRESH_MS` whatever the traffic, instead of every cached row being
 * re-read on a short timer (which cost a third of the guard's database time).
 */
import type { Db } from '../db/db.ts';

/** A configuration change made in any process is in force everywhere within this. */
export const CONFIG_FRESH_MS = 250;

export class ConfigEpoch {
  readonly #db: Db;
  readonly #now: () => number;
  #epoch: bigint | undefined;
  #generation = 0;
  #checkedAt = Number.NEGATIVE_INFINITY;
  #checking: Promise<void> | undefined;

  constructor(db: Db, now: () => number = Date.now) {
    this.#db = db;
    this.#now = now;
  }

  /** The generation as last read (no wait); it changes whenever the epoch does. */
  get generation(): number {
    return this.#generation;
  }

  /**
   * The generation, read recently enough: older than `CONFIG_FRESH_MS` the caller waits for one
   * shared read; past half of it the read starts in the background and the caller goes on.
   */
  async current(): Promise<number> {
    const age = this.#now() - this.#checkedAt;
    if (age >= CONFIG_FRESH_MS) await this.#check();
    else if (age >= CONFIG_FRESH_MS / 2) this.#check().catch(() => {});
    return this.#generation;
  }

  /** Marks this process's own write: its caches must not wait for the next read to see it. */
  bump(): void {
    this.#generation += 1;
    this.#checkedAt = Number.NEGATIVE_INFINITY;
  }

  #check(): Promise<void> {
    this.#checking ??= this.#read().finally(() => {
      this.#checking = undefined;
    });
    return this.#checking;
  }

  async #read(): Promise<void> {
    // The read counts from when it started: a change committed while it ran may be missed.
    const startedAt = this.#now();
    const [row] = await this.#db.query<{ epoch: bigint }>('SELECT epoch FROM config_epoch WHERE id = 1');
    const epoch = row?.epoch ?? 0n;
    if (this.#epoch !== undefined && epoch !== this.#epoch) this.#generation += 1;
    this.#epoch = epoch;
    this.#checkedAt = startedAt;
  }
}

const epochs = new WeakMap<Db, ConfigEpoch>();

/** The one epoch of a database in this process, shared by every cache over it. */
export function configEpoch(db: Db): ConfigEpoch {
  let epoch = epochs.get(db);
  if (!epoch) epochs.set(db, (epoch = new ConfigEpoch(db)));
  return epoch;
}
