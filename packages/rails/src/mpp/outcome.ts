/**
 * @module mpp/outcome
 * What the MPP rail decided about one paid request, for the HTTP and MCP adapters to render.
 */
import type { Receipt } from 'mppx';
import type { MppChallenge } from './challenges.ts';
import type { MppProblem } from './problems.ts';
import type { StoredAnswer } from './single-use.ts';

export type MppReceipt = Receipt.Receipt & Record<string, unknown>;

export type MppIntent = 'charge' | 'session';

/** A paid resource as the rail sees it: its price, what it offers, and whose earnings it makes. */
export interface MppOffer {
  /** Names the resource in challenges (e.g. `search GET /search`); a challenge pays only for its resource. */
  resource: string;
  amountMicros: bigint;
  intents: readonly MppIntent[];
  description?: string;
  sellerId: string;
  serviceId: string;
  /** Service slug. */
  service: string;
  /** `METHOD /path` or the MCP tool name. */
  tool: string;
  edge: 'http' | 'mcp';
}

/** The upstream's answer and whether it is a success the payer owes for. */
export interface Delivery<T> {
  value: T;
  chargeable: boolean;
}

export type MppOutcome<T> =
  /** Pay first: fresh challenges (one per intent) and the problem that explains why. */
  | { type: 'challenge'; problem: MppProblem; challenges: MppChallenge[] }
  /** A refusal that a new challenge would not fix (a closed channel, a reverted close). */
  | { type: 'refused'; problem: MppProblem }
  | { type: 'paid'; value: T; receipt: MppReceipt }
  /** The upstream failed: its answer goes back as is and nothing was taken. */
  | { type: 'not_charged'; value: T }
  /** A session's `close`: settled on chain, nothing delivered. */
  | { type: 'closed'; receipt: MppReceipt }
  /** A retry of a paid credential with the same `Idempotency-Key`: the answer it bought, again. */
  | { type: 'replayed'; answer: StoredAnswer };
