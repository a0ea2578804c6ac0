/**
 * @module usage/test-helpers
 * Shared by the usage suites: a usage event to override, and a sink that fails on demand.
 */
import type { UsageEvent, UsageRejection, UsageSink } from '@tollgate/core';

export const usageEvent = (over: Partial<UsageEvent> = {}): UsageEvent => ({
  at: new Date('2026-11-22T00:00:00Z'), edge: 'mcp', principalId: 'usr_1', grantId: 'grant_1', service: 'demo', tool: 'echo',
  status: 'ok', latencyMs: 12.5, chargeMicros: 10_000n, ...over,
});

/** Fails its first `failFirst` deliveries, then takes everything; records what it took, every time. */
export class FlakySink implements UsageSink {
  readonly taken: UsageEvent[] = [];
  attempts = 0;
  failFirst: number;
  constructor(options: { failFirst: number }) {
    this.failFirst = options.failFirst;
  }

  async write(event: UsageEvent): Promise<void> {
    await this.writeBatch([event]);
  }

  async writeBatch(events: readonly UsageEvent[]): Promise<readonly UsageRejection[]> {
    this.attempts++;
    if (this.attempts <= this.failFirst) throw new Error(`sink down (attempt ${this.attempts})`);
    this.taken.push(...events);
    return [];
  }
}
