/**
 * bench/statements.ts — where a benchmark's database time goes: wraps a Db so every statement
 * (inside transactions too) is timed under a short label, then prints count per cycle and mean
 * round-trip time per label. Enable with BENCH_STATEMENTS=1; the wrapping itself costs a little CPU.
 */
import type { Db, Queryable } from '@tollgate/core';

interface Tally {
  count: number;
  ms: number;
}

const label = (sql: string) => sql.replace(/\s+/g, ' ').trim().slice(0, 60);

export class StatementProfile {
  readonly #tallies = new Map<string, Tally>();

  #add(key: string, ms: number): void {
    const tally = this.#tallies.get(key) ?? { count: 0, ms: 0 };
    tally.count += 1;
    tally.ms += ms;
    this.#tallies.set(key, tally);
  }

  #timed(q: Queryable, prefix: string): Queryable {
    return {
      query: async (sql, params) => {
        const t0 = performance.now();
        try {
          return await q.query(sql, params);
        } finally {
          this.#add(prefix + label(sql), performance.now() - t0);
        }
      },
      exec: async (sql) => {
        const t0 = performance.now();
        try {
          await q.exec(sql);
        } finally {
          this.#add(prefix + label(sql), performance.now() - t0);
        }
      },
    };
  }

  /** The same database, timed. */
  wrap<D extends Db>(db: D): D {
    const outside = this.#timed(db, '   ');
    return Object.assign(Object.create(db) as D, {
      query: outside.query,
      exec: outside.exec,
      transaction: (fn: (tx: Queryable) => Promise<unknown>, options?: Parameters<Db['transaction']>[1]) => {
        const t0 = performance.now();
        return db
          .transaction((tx) => fn(this.#timed(tx, 'tx ')), options)
          .finally(() => this.#add('tx (whole transaction, BEGIN to COMMIT)', performance.now() - t0));
      },
    });
  }

  reset(): void {
    this.#tallies.clear();
  }

  print(cycles: number): void {
    const rows = [...this.#tallies].sort((a, b) => b[1].ms - a[1].ms);
    console.log('statements: per cycle, mean ms, label (tx = inside a transaction)');
    for (const [key, t] of rows) console.log(`  ${(t.count / Math.max(1, cycles)).toFixed(3).padStart(8)}  ${(t.ms / t.count).toFixed(2).padStart(7)}  ${key}`);
  }
}
