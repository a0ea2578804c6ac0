/**
 * @module usage/types
 * What a meter observed and where it goes. The types live in core, not in the server, because the
 * rails implement sinks too (the Stripe meter sink in `@tollgate/rails`) and rails may only depend
 * on core. The sinks themselves live with the packages that own their drivers.
 */

export type UsageStatus = 'ok' | 'tool_error' | 'refused' | 'upstream_failed' | 'upstream_timeout' | 'cancelled';

export interface UsageEvent {
  /**
   * A stable id, when the event has one: for captured usage the capture id (the call id, since a
   * call is captured at most once). Sinks that deduplicate use it as their idempotency key.
   */
  id?: string;
  at: Date;
  edge: 'http' | 'mcp' | 'sdk';
  /** The grant's user (the principal who pays); null when the token did not authenticate. */
  principalId: string | null;
  /** The principal's org, when known. */
  orgId?: string | null;
  grantId: string | null;
  service: string;
  tool: string;
  status: UsageStatus;
  /** The refusal's code when `status` is `refused`. */
  code?: string;
  callId?: string;
  latencyMs: number;
  units?: bigint;
  /** What was captured (0 for refused, failed, cancelled and free calls). */
  chargeMicros: bigint;
}

/** An event a sink refused for good (bad data, not a transient failure): it is set aside, not retried. */
export interface UsageRejection {
  id: string;
  reason: string;
}

export interface UsageSink {
  /** Takes one event. Rejects when the event could not be taken (the caller retries or buffers). */
  write(event: UsageEvent): Promise<void>;
  /**
   * Takes many events at once, when the sink can do better than one at a time. Resolves with the
   * events it refused for good; rejects (taking none for sure) when the failure is transient.
   */
  writeBatch?(events: readonly UsageEvent[]): Promise<readonly UsageRejection[]>;
  /** Writes what a buffering sink still holds (on shutdown, and in tests). */
  flush?(): Promise<void>;
  /** Releases connections and timers. */
  close?(): Promise<void>;
}
