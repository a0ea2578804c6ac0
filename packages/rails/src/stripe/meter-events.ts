/**
 * @module stripe/meter-events
 * What both Stripe meter sinks share: which captures become meter events (a mapped customer, a
 * value above zero, an identifier Stripe accepts, a timestamp inside Stripe's 35 days), and how a
 * failure worth retrying is told from a refusal.
 */
import type { UsageEvent, UsageRejection } from '@tollgate/core';
import type { StripeCustomers } from './customers.ts';

/** What `payload.value` carries. */
export type MeterValue = 'charge_micros' | 'units' | 'calls';

/** Stripe's limit on `identifier`. */
const IDENTIFIER_LENGTH_MAX = 100;
/** Oldest event Stripe accepts (35 days), less an hour so a request in flight is not refused at the edge. */
const EVENT_AGE_MS_MAX = 35 * 24 * 3600 * 1000 - 3600 * 1000;

/** One capture ready to be sent. */
export interface MeterEventInput {
  id: string;
  customerId: string;
  value: string;
  at: Date;
}

export interface PreparedMeterEvents {
  ready: MeterEventInput[];
  /** Not Stripe's business: no customer for the principal, or nothing to bill. */
  skipped: number;
  /** Events Stripe would refuse whatever happens. */
  rejected: UsageRejection[];
}

export async function prepareMeterEvents(events: readonly UsageEvent[], customers: StripeCustomers, value: MeterValue): Promise<PreparedMeterEvents> {
  const mapped = await customers.resolve(events.map((e) => ({ userId: e.principalId, orgId: e.orgId })));
  const out: PreparedMeterEvents = { ready: [], skipped: 0, rejected: [] };
  events.forEach((event, i) => {
    const customerId = mapped[i];
    const amount = value === 'calls' ? 1n : value === 'units' ? (event.units ?? 0n) : event.chargeMicros;
    if (!customerId || amount === 0n) out.skipped++;
    else if (!event.id || event.id.length > IDENTIFIER_LENGTH_MAX) out.rejected.push({ id: event.id ?? '', reason: 'a meter event needs a capture id of at most 100 characters' });
    else if (Date.now() - event.at.getTime() > EVENT_AGE_MS_MAX) out.rejected.push({ id: event.id, reason: 'older than Stripe accepts meter events (35 days)' });
    else out.ready.push({ id: event.id, customerId, value: amount.toString(), at: event.at });
  });
  return out;
}

/** A failure worth retrying later; `retryAfterMs` when Stripe said when. */
export class StripeUnavailable extends Error {
  constructor(message: string, readonly retryAfterMs?: number, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'StripeUnavailable';
  }
}

/** The fields of a `stripe` package error this module reads. */
export interface StripeErrorLike {
  type?: string;
  statusCode?: number;
  code?: string;
  message?: string;
  headers?: Record<string, string>;
}

export function unavailable(error: unknown): StripeUnavailable {
  const e = error as StripeErrorLike;
  const retryAfterSeconds = Number(e.headers?.['retry-after']);
  return new StripeUnavailable(
    `stripe unavailable: ${e.type ?? 'error'} ${e.statusCode ?? ''} ${e.message ?? String(error)}`.replace(/\s+/g, ' ').trim(),
    Number.isFinite(retryAfterSeconds) && retryAfterSeconds > 0 ? retryAfterSeconds * 1000 : undefined,
    { cause: error },
  );
}
