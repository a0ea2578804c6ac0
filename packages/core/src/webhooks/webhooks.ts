/**
 * @module webhooks/webhooks
 * Signed webhooks through an outbox. An event is written as one delivery row per subscribed
 * endpoint in the SAME transaction as the change it reports (an approval created or decided), so a
 * crash can't lose it or send it for a change that rolled back. A dispatcher then sends due rows,
 * marks 2xx as delivered and retries anything else with exponential backoff, up to a bounded number
 * of attempts. Receivers dedupe on `Tollgate-Event-Id`: delivery is at least once.
 */
import { randomBytes } from 'node:crypto';
import type { Db, Queryable } from '../db/db.ts';
import { invalid, TollgateError } from '../errors.ts';
import { PAGE_SIZE_MAX } from '../constants.ts';
import { EVENT_ID_HEADER, EVENT_TYPE_HEADER, SIGNATURE_HEADER, signWebhook } from './signature.ts';

/** Event types sent today; `call.*` events join later without a schema change. */
export const WEBHOOK_EVENT_TYPES = ['approval.created', 'approval.decided', 'approval.expired'] as const;
export type WebhookEventType = (typeof WEBHOOK_EVENT_TYPES)[number] | `call.${string}`;

/** Defaults; each is an option of `Webhooks`. */
export const WEBHOOK_ATTEMPTS_MAX = 8;
export const WEBHOOK_BACKOFF_BASE_MS = 10_000;
export const WEBHOOK_BACKOFF_MAX_MS = 6 * 3600_000;
export const WEBHOOK_REQUEST_TIMEOUT_MS = 10_000;
/** Most deliveries one `deliverDue` round claims (and sends concurrently). */
export const WEBHOOK_ROUND_SIZE_MAX = 50;
const ENDPOINTS_PER_ORG_MAX = 50;
const ERROR_TEXT_LENGTH_MAX = 500;

export interface WebhookEndpoint {
  id: string;
  orgId: string;
  url: string;
  /** Exact types, `prefix.*` patterns, or `*`. */
  events: string[];
  active: boolean;
  createdAt: Date;
}

export type DeliveryState = 'pending' | 'delivered' | 'failed';

export interface WebhookDelivery {
  id: string;
  endpointId: string;
  eventId: string;
  eventType: string;
  /** The envelope sent as the body: `{ id, type, created_at, data }`. */
  payload: WebhookEnvelope;
  attempts: number;
  nextAttemptAt: Date;
  state: DeliveryState;
  lastError: string | null;
  lastStatus: number | null;
  deliveredAt: Date | null;
  createdAt: Date;
}

export interface WebhookEnvelope {
  id: string;
  type: string;
  created_at: string;
  data: Record<string, unknown>;
}

export interface WebhookEvent {
  orgId: string;
  type: WebhookEventType;
  /** JSON-safe facts (bigints already as decimal strings). */
  data: Record<string, unknown>;
  /** Stable id for receivers to dedupe on; generated when omitted. */
  eventId?: string;
}

export interface WebhooksOptions {
  now?: () => Date;
  attemptsMax?: number;
  backoffBaseMs?: number;
  backoffMaxMs?: number;
  requestTimeoutMs?: number;
}

export interface DeliverOptions {
  fetch?: typeof fetch;
  now?: Date;
  limit?: number;
}

export interface DeliverReport {
  attempted: number;
  delivered: number;
  retried: number;
  failed: number;
}

type Row = Record<string, unknown>;

function endpointFrom(row: Row): WebhookEndpoint {
  return {
    id: row.id as string,
    orgId: row.org_id as string,
    url: row.url as string,
    events: row.events as string[],
    active: row.active as boolean,
    createdAt: new Date(row.created_at as string),
  };
}

function deliveryFrom(row: Row): WebhookDelivery {
  return {
    id: row.id as string,
    endpointId: row.endpoint_id as string,
    eventId: row.event_id as string,
    eventType: row.event_type as string,
    payload: row.payload as WebhookEnvelope,
    attempts: Number(row.attempts),
    nextAttemptAt: new Date(row.next_attempt_at as string),
    state: row.state as DeliveryState,
    lastError: (row.last_error as string | null) ?? null,
    lastStatus: row.last_status === null || row.last_status === undefined ? null : Number(row.last_status),
    deliveredAt: row.delivered_at ? new Date(row.delivered_at as string) : null,
    createdAt: new Date(row.created_at as string),
  };
}

/** Whether an endpoint subscribed with `patterns` wants an event of `type`. */
export function eventMatches(patterns: readonly string[], type: string): boolean {
  return patterns.some((p) => p === '*' || p === type || (p.endsWith('.*') && type.startsWith(p.slice(0, -1))));
}

function checkUrl(url: unknown): string {
  if (typeof url !== 'string' || url.length > 2_000) throw invalid('url', 'must be an http(s) URL of at most 2,000 characters');
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw invalid('url', 'is not a valid URL');
  }
  if (parsed.protocol !== 'https:' && parsed.protocol !== 'http:') throw invalid('url', 'must use http or https');
  if (parsed.username || parsed.password) throw invalid('url', 'must not carry credentials; the signature authenticates');
  return parsed.toString();
}

function checkEvents(events: unknown): string[] {
  if (!Array.isArray(events) || events.length === 0 || events.length > 50) throw invalid('events', 'must list 1 to 50 event types');
  for (const e of events) {
    if (typeof e !== 'string' || !/^(\*|[a-z_]+(\.[a-z_]+)*(\.\*)?)$/.test(e)) throw invalid('events', `"${String(e)}" is not an event type or pattern`);
  }
  return [...new Set(events as string[])];
}

export class Webhooks {
  readonly #db: Db;
  readonly #now: () => Date;
  readonly #attemptsMax: number;
  readonly #backoffBaseMs: number;
  readonly #backoffMaxMs: number;
  readonly #requestTimeoutMs: number;

  constructor(db: Db, options: WebhooksOptions = {}) {
    this.#db = db;
    this.#now = options.now ?? (() => new Date());
    this.#attemptsMax = options.attemptsMax ?? WEBHOOK_ATTEMPTS_MAX;
    this.#backoffBaseMs = options.backoffBaseMs ?? WEBHOOK_BACKOFF_BASE_MS;
    this.#backoffMaxMs = options.backoffMaxMs ?? WEBHOOK_BACKOFF_MAX_MS;
    this.#requestTimeoutMs = options.requestTimeoutMs ?? WEBHOOK_REQUEST_TIMEOUT_MS;
    if (!Number.isInteger(this.#attemptsMax) || this.#attemptsMax < 1 || this.#attemptsMax > 50) throw new Error('Webhooks: attemptsMax must be 1..50');
  }

  /** Registers an endpoint. The secret is returned here and kept server-side to sign deliveries. */
  async createEndpoint(input: { orgId: string; url: string; events: readonly string[]; secret?: string }): Promise<{ endpoint: WebhookEndpoint; secret: string }> {
    const url = checkUrl(input.url);
    const events = checkEvents(input.events);
    const secret = input.secret ?? `whsec_${randomBytes(24).toString('base64url')}`;
    if (secret.length < 16 || secret.length > 200) throw invalid('secret', 'must be 16 to 200 characters');
    const count = await this.#db.query<{ n: bigint }>('SELECT count(*)::int8 AS n FROM webhook_endpoints WHERE org_id = $1', [input.orgId]);
    if ((count[0]?.n ?? 0n) >= BigInt(ENDPOINTS_PER_ORG_MAX)) throw new TollgateError('conflict', `An org may have at most ${ENDPOINTS_PER_ORG_MAX} webhook endpoints`);
    const rows = await this.#db.query<Row>(
      `INSERT INTO webhook_endpoints (id, org_id, url, secret, events, active, created_at)
       VALUES ($1, $2, $3, $4, $5::jsonb, true, $6) RETURNING *`,
      [`whe_${randomBytes(12).toString('hex')}`, input.orgId, url, secret, JSON.stringify(events), this.#now()],
    );
    return { endpoint: endpointFrom(rows[0]!), secret };
  }

  async listEndpoints(orgId: string): Promise<WebhookEndpoint[]> {
    const rows = await this.#db.query<Row>('SELECT * FROM webhook_endpoints WHERE org_id = $1 ORDER BY created_at, id', [orgId]);
    return rows.map(endpointFrom);
  }

  async setEndpointActive(id: string, active: boolean): Promise<WebhookEndpoint> {
    const rows = await this.#db.query<Row>('UPDATE webhook_endpoints SET active = $2 WHERE id = $1 RETURNING *', [id, active]);
    if (!rows[0]) throw new TollgateError('not_found', `No webhook endpoint ${id}`, { id });
    return endpointFrom(rows[0]);
  }

  /**
   * Writes one delivery per active, subscribed endpoint of the org. Call it with the transaction
   * that makes the change, so the event exists exactly when the change does. Returns the event id.
   */
  async enqueue(q: Queryable, event: WebhookEvent): Promise<string> {
    const eventId = event.eventId ?? `evt_${randomBytes(12).toString('hex')}`;
    const endpoints = await q.query<Row>('SELECT id, events FROM webhook_endpoints WHERE org_id = $1 AND active', [event.orgId]);
    const targets = endpoints.filter((e) => eventMatches(e.events as string[], event.type));
    if (targets.length === 0) return eventId;
    const now = this.#now();
    const envelope: WebhookEnvelope = { id: eventId, type: event.type, created_at: now.toISOString(), data: event.data };
    const rows = targets.map((e) => ({ id: `whd_${randomBytes(12).toString('hex')}`, endpoint_id: e.id }));
    await q.query(
      `INSERT INTO webhook_deliveries (id, endpoint_id, event_id, event_type, payload, next_attempt_at, created_at)
       SELECT r.id, r.endpoint_id, $2, $3, $4::jsonb, $5, $5 FROM jsonb_to_recordset($1::jsonb) AS r(id text, endpoint_id text)
       ON CONFLICT (endpoint_id, event_id) DO NOTHING`,
      [JSON.stringify(rows), eventId, event.type, JSON.stringify(envelope), now],
    );
    return eventId;
  }

  async listDeliveries(filter: { endpointId?: string; eventId?: string; state?: DeliveryState; limit?: number } = {}): Promise<WebhookDelivery[]> {
    const limit = Math.min(Math.max(filter.limit ?? 100, 1), PAGE_SIZE_MAX);
    const rows = await this.#db.query<Row>(
      `SELECT * FROM webhook_deliveries
       WHERE ($1::text IS NULL OR endpoint_id = $1) AND ($2::text IS NULL OR event_id = $2) AND ($3::text IS NULL OR state = $3)
       ORDER BY created_at DESC, id DESC LIMIT $4`,
      [filter.endpointId ?? null, filter.eventId ?? null, filter.state ?? null, limit],
    );
    return rows.map(deliveryFrom);
  }

  /** Delay before attempt `attempts + 1`, after `attempts` failed ones: base · 2^(attempts−1), capped. */
  backoffMs(attempts: number): number {
    return Math.min(this.#backoffBaseMs * 2 ** Math.max(attempts - 1, 0), this.#backoffMaxMs);
  }

  /**
   * Sends every due delivery once (up to `limit`). Rows are claimed with `FOR UPDATE SKIP LOCKED`
   * and leased past the request timeout, so two dispatchers never send the same row at once, and a
   * dispatcher that dies mid-send leaves the row to be retried when its lease runs out.
   */
  async deliverDue(options: DeliverOptions = {}): Promise<DeliverReport> {
    const now = options.now ?? this.#now();
    const send = options.fetch ?? globalThis.fetch;
    const limit = Math.min(Math.max(options.limit ?? WEBHOOK_ROUND_SIZE_MAX, 1), WEBHOOK_ROUND_SIZE_MAX);
    const leaseUntil = new Date(now.getTime() + this.#requestTimeoutMs + 30_000);
    const claimed = await this.#db.query<Row>(
      `UPDATE webhook_deliveries d SET next_attempt_at = $3
       FROM webhook_endpoints e
       WHERE e.id = d.endpoint_id AND d.id IN (
         SELECT id FROM webhook_deliveries WHERE state = 'pending' AND next_attempt_at <= $1
         ORDER BY next_attempt_at, id LIMIT $2 FOR UPDATE SKIP LOCKED)
       RETURNING d.*, e.url, e.secret, e.active`,
      [now, limit, leaseUntil],
    );
    const report: DeliverReport = { attempted: claimed.length, delivered: 0, retried: 0, failed: 0 };
    const outcomes = await Promise.all(claimed.map((row) => this.#attempt(row, send, now)));
    for (const outcome of outcomes) report[outcome] += 1;
    return report;
  }

  async #attempt(row: Row, send: typeof fetch, now: Date): Promise<'delivered' | 'retried' | 'failed'> {
    const attempts = Number(row.attempts) + 1;
    if (!row.active) return this.#finish(row.id as string, attempts, 'failed', null, 'endpoint is inactive', now);
    const body = JSON.stringify(row.payload);
    let status: number | null = null;
    let error: string | null = null;
    try {
      const response = await send(row.url as string, {
        method: 'POST',
        redirect: 'manual',
        signal: AbortSignal.timeout(this.#requestTimeoutMs),
        headers: {
          'content-type': 'application/json',
          'user-agent': 'Tollgate-Webhooks/1',
          [SIGNATURE_HEADER]: signWebhook(row.secret as string, body, Math.floor(now.getTime() / 1000)),
          [EVENT_ID_HEADER]: row.event_id as string,
          [EVENT_TYPE_HEADER]: row.event_type as string,
        },
        body,
      });
      status = response.status;
      // Read (and drop) the body so the connection can be reused; a receiver's answer is not ours to keep.
      await response.arrayBuffer().catch(() => undefined);
      if (status >= 200 && status < 300) return this.#finish(row.id as string, attempts, 'delivered', status, null, now);
      error = `HTTP ${status}`;
    } catch (caught) {
      error = caught instanceof Error ? `${caught.name}: ${caught.message}` : String(caught);
    }
    const state = attempts >= this.#attemptsMax ? 'failed' : 'pending';
    return this.#finish(row.id as string, attempts, state, status, error, now);
  }

  async #finish(id: string, attempts: number, state: DeliveryState, status: number | null, error: string | null, now: Date): Promise<'delivered' | 'retried' | 'failed'> {
    const next = new Date(now.getTime() + (state === 'pending' ? this.backoffMs(attempts) : 0));
    await this.#db.query(
      `UPDATE webhook_deliveries SET attempts = $2, state = $3, last_status = $4, last_error = $5, next_attempt_at = $6,
         delivered_at = CASE WHEN $3 = 'delivered' THEN $7::timestamptz ELSE delivered_at END
       WHERE id = $1`,
      [id, attempts, state, status, error?.slice(0, ERROR_TEXT_LENGTH_MAX) ?? null, next, now],
    );
    return state === 'pending' ? 'retried' : state;
  }
}
