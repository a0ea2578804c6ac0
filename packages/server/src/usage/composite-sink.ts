/**
 * @module usage/composite-sink
 * Fan-out: one event to every sink. A sink that fails is counted and does not stop the others or
 * the call; give each sink its own buffer (`BufferedUsageSink`) so a slow one does not hold up the
 * fan-out either.
 */
import type { UsageEvent, UsageSink } from '@tollgate/core';

export class CompositeUsageSink implements UsageSink {
  failures = 0;
  constructor(readonly sinks: readonly UsageSink[] = []) {}

  async write(event: UsageEvent): Promise<void> {
    await Promise.all(this.sinks.map((s) => s.write(event).catch(() => {
      this.failures++;
    })));
  }

  async flush(): Promise<void> {
    await Promise.all(this.sinks.map((s) => s.flush?.().catch(() => {})));
  }

  async close(): Promise<void> {
    await Promise.all(this.sinks.map((s) => (s.close ? s.close() : s.flush?.())?.catch(() => {})));
  }
}

/** The name the edges have used so far. */
export { CompositeUsageSink as UsageMeter };
