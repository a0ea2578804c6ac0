/**
 * @module db/prepared
 * Names for server-side prepared statements, one per distinct SQL text. A prepared statement is
 * parsed and planned once per connection instead of on every execution; for the ledger's few,
 * large, array-parameter statements that planning was a third of Postgres's CPU per call when
 * batches are small (bench:mcp: 2.2 → 1.4 ms of Postgres CPU per paid tool call).
 */

/** Most distinct statements prepared per pool; SQL whose text varies (built per call) stays unprepared past it. */
export const PREPARED_MAX = 512;

export class PreparedNames {
  readonly #names = new Map<string, string>();
  readonly #max: number;

  constructor(max = PREPARED_MAX) {
    this.#max = max;
  }

  /** The statement's name, or `undefined` once the cap is reached by other texts. */
  nameOf(sql: string): string | undefined {
    const known = this.#names.get(sql);
    if (known !== undefined || this.#names.size >= this.#max) return known;
    const name = `tg_${this.#names.size}`;
    this.#names.set(sql, name);
    return name;
  }
}
