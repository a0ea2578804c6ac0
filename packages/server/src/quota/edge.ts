/**
 * @module quota/edge
 * Where the edges meet quotas. The HTTP proxy gets a middleware that runs before the proxy (so
 * before authorize) and refuses with problem+json; the MCP gateway and the seller API call
 * `Quotas.check` themselves. A token that does not authenticate is left to the proxy, which
 * answers 401 as before. Units quotas learn each capture's units from the usage outbox
 * (`QuotaUnitsSink` is one of the exporter's sinks), off the call path: every edge reports its units
 * to the guard's settle, so the audit log has them whichever edge the call came through.
 */
import type { MiddlewareHandler } from 'hono';
import type { Tollgate, UsageEvent, UsageRejection, UsageSink } from '@tollgate/core';
import type { Quotas } from './quotas.ts';

export function proxyQuota(options: { tg: Tollgate; quotas: Quotas }): MiddlewareHandler {
  return async function checkQuota(c, next) {
    const token = c.req.header('authorization')?.match(/^Bearer\s+(\S+)\s*$/i)?.[1];
    const grant = token ? await options.tg.grants.authenticate(token).catch(() => undefined) : undefined;
    if (grant) await options.quotas.check(grant.userId);
    await next();
  };
}

/**
 * Adds each captured call's units to its principal's units quota. Fed by the outbox drainer, so each
 * capture is counted once (a redelivery after a crash between counting and the cursor moving would
 * count it again: units quotas are soft by nature, the ledger is exact).
 */
export class QuotaUnitsSink implements UsageSink {
  constructor(readonly quotas: Quotas) {}
  async write(event: UsageEvent): Promise<void> {
    if (event.principalId && event.units !== undefined && event.units > 0n && event.status !== 'refused') await this.quotas.recordUnits(event.principalId, event.units, event.at);
  }

  async writeBatch(events: readonly UsageEvent[]): Promise<readonly UsageRejection[]> {
    for (const event of events) await this.write(event);
    return [];
  }
}
