/**
 * @module usage/redis-stream-sink
 * Usage events appended to a Redis stream (`XADD … MAXLEN ~ n`), for consumers that read with
 * `XREAD` / consumer groups. An event with an id is appended at most once per `dedupeTtlSeconds`:
 * one Lua script sets a marker key (`SET NX PX`) and appends only when it was new, atomically, so
 * the outbox drainer's redeliveries never show up twice in the stream.
 */
import type { Redis } from 'ioredis';
import type { UsageEvent, UsageRejection, UsageSink } from '@tollgate/core';

/** Entries the stream keeps (approximately: `MAXLEN ~` trims whole macro nodes, cheaply). */
export const USAGE_STREAM_LENGTH_MAX = 1_000_000;
/** How long an appended id is remembered; matches Stripe's dedupe window for meter events. */
export const USAGE_STREAM_DEDUPE_TTL_SECONDS = 24 * 3600;

const APPEND_ONCE = `
if tonumber(ARGV[1]) > 0 then
  if not redis.call('SET', KEYS[2], '1', 'NX', 'PX', ARGV[1]) then return false end
end
return redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[2], '*', unpack(ARGV, 3))
`;

export interface RedisStreamUsageSinkOptions {
  redis: Redis;
  /** Stream key, e.g. `tollgate:usage`. */
  stream: string;
  lengthMax?: number;
  dedupeTtlSeconds?: number;
}

type AppendOnce = (stream: string, marker: string, ttlMs: string, lengthMax: string, ...fields: string[]) => Promise<string | null>;

export class RedisStreamUsageSink implements UsageSink {
  readonly #o: Required<RedisStreamUsageSinkOptions>;

  constructor(options: RedisStreamUsageSinkOptions) {
    this.#o = { lengthMax: USAGE_STREAM_LENGTH_MAX, dedupeTtlSeconds: USAGE_STREAM_DEDUPE_TTL_SECONDS, ...options };
    if (!('tollgateAppendOnce' in options.redis)) options.redis.defineCommand('tollgateAppendOnce', { numberOfKeys: 2, lua: APPEND_ONCE });
  }

  async write(event: UsageEvent): Promise<void> {
    await this.writeBatch([event]);
  }

  /** One round trip for the whole batch (a pipeline of script calls). */
  async writeBatch(events: readonly UsageEvent[]): Promise<readonly UsageRejection[]> {
    if (events.length === 0) return [];
    const pipeline = this.#o.redis.pipeline() as unknown as { tollgateAppendOnce: AppendOnce; exec(): Promise<[Error | null, unknown][] | null> };
    for (const event of events) {
      const ttlMs = event.id === undefined ? '0' : String(this.#o.dedupeTtlSeconds * 1000);
      void pipeline.tollgateAppendOnce(this.#o.stream, `${this.#o.stream}:seen:${event.id ?? ''}`, ttlMs, String(this.#o.lengthMax), ...streamFields(event));
    }
    const results = await pipeline.exec();
    const failed = results?.find(([error]) => error);
    if (!results || failed) throw failed?.[0] ?? new Error('redis pipeline was not executed');
    return [];
  }
}

/** The stream entry: flat field/value strings, bigints as decimal strings, absent fields left out. */
export function streamFields(event: UsageEvent): string[] {
  const fields: Record<string, string | undefined> = {
    id: event.id, at: event.at.toISOString(), edge: event.edge, principal_id: event.principalId ?? undefined, org_id: event.orgId ?? undefined,
    grant_id: event.grantId ?? undefined, service: event.service, tool: event.tool, status: event.status, code: event.code, call_id: event.callId,
    latency_ms: String(Math.round(event.latencyMs)), units: event.units?.toString(), charge_micros: event.chargeMicros.toString(),
  };
  return Object.entries(fields).flatMap(([k, v]) => (v === undefined ? [] : [k, v]));
}
