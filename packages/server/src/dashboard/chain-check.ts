/**
 * @module dashboard/chain-check
 * Whether the audit hash chain verifies, for the audit pages. A full walk re-hashes every record, so
 * the last answer is kept while the chain head has not moved, and concurrent askers share one walk.
 * A record is covered by an answer when its seq is at or below the seq the walk checked up to.
 */
import { jsonSafe, type Tollgate, type VerifyResult } from '@tollgate/core';

export interface ChainStatus {
  ok: boolean;
  /** Records checked. */
  checked: number;
  /** The head at the time of the walk. */
  headSeq: string;
  problem?: string;
  firstBadSeq?: string;
  detail?: string;
  checkedAt: string;
  /** Milliseconds the walk took (0 when this answer was kept from an earlier walk). */
  tookMs: number;
}

export class ChainCheck {
  readonly #tg: Tollgate;
  #last: { headSeq: bigint; status: ChainStatus } | undefined;
  #running: Promise<ChainStatus> | undefined;

  constructor(tg: Tollgate) {
    this.#tg = tg;
  }

  async status(): Promise<ChainStatus> {
    const head = await this.#tg.audit.head();
    if (this.#last && this.#last.headSeq === head.seq) return { ...this.#last.status, tookMs: 0 };
    this.#running ??= this.#walk(head.seq).finally(() => {
      this.#running = undefined;
    });
    return this.#running;
  }

  async #walk(headSeq: bigint): Promise<ChainStatus> {
    const started = performance.now();
    const result: VerifyResult = await this.#tg.audit.verify();
    const base = { checked: result.checked, headSeq: String(headSeq), checkedAt: new Date().toISOString(), tookMs: Math.round(performance.now() - started) };
    const status: ChainStatus = result.ok
      ? { ok: true, ...base }
      : { ok: false, ...base, problem: result.problem, firstBadSeq: String(result.firstBadSeq), detail: result.detail };
    this.#last = { headSeq, status: jsonSafe(status) };
    return status;
  }
}
