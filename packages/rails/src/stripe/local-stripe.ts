/**
 * @module stripe/local-stripe
 * A local stand-in for Stripe's meter event endpoints, for tests and offline development: the real
 * `stripe` package talks to it (see `openStripe({ apiBase })`). v1 (`/v1/billing/meter_events`):
 * it checks what a real request carries (the secret key as a bearer, form encoding, the meter's
 * event name, a known customer, an integer value, an identifier of at most 100 characters, a
 * timestamp in Stripe's window) and deduplicates on `identifier` the way Stripe does (an event is
 * counted once; a repeat is refused with Stripe's 400 "An event already exists with identifier …").
 * v2: meter event sessions (15-minute tokens, expirable on demand) and the JSON event stream (up to
 * 100 events, validated "later": bad events land in `asyncErrors`, repeats are dropped). Any
 * request fails on demand: 500s, 429 with Retry-After, answers that never come, or down altogether.
 */
import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';

export interface ReceivedMeterEvent {
  identifier: string;
  eventName: string;
  customerId: string;
  value: string;
  timestamp: number;
}

export type LocalStripeFailure =
  | { status: 500 }
  | { status: 429; retryAfterSeconds?: number }
  /** Answers after `delayMs` (past the client's timeout); `processed` = the event counts anyway (the answer was lost). */
  | { delayMs: number; processed: boolean };

interface Answer {
  status: number;
  body: string;
  headers?: Record<string, string>;
  /** Events this request counted (forgotten again when the failure says the answer was lost unprocessed). */
  accepted?: ReceivedMeterEvent[];
}

/** How long a v2 meter event session lasts (Stripe: 15 minutes). */
const SESSION_TTL_MS = 15 * 60_000;
/** How far in the past Stripe accepts a meter event's timestamp, and how far in the future. */
const PAST_SECONDS_MAX = 35 * 24 * 3600;
const FUTURE_SECONDS_MAX = 5 * 60;

export class LocalStripe {
  /** Accepted events, each identifier once, in arrival order. */
  readonly events: ReceivedMeterEvent[] = [];
  /** Requests received, failed on demand included. */
  requests = 0;
  /** Requests for an identifier already counted. */
  duplicates = 0;
  /** Requests refused for what they carried (auth, encoding, fields), with the reason. */
  readonly refused: string[] = [];
  /** v2 stream events Stripe would report later as errors (it validates the stream asynchronously). */
  readonly asyncErrors: { identifier: string; reason: string }[] = [];
  /** v2 meter event sessions opened. */
  sessionsOpened = 0;
  /** When true every request gets a 503. */
  down = false;
  readonly customers: Set<string>;
  readonly #failures: LocalStripeFailure[] = [];
  readonly #seen = new Set<string>();
  readonly #sessions = new Map<string, number>();
  #server: Server | undefined;
  port = 0;

  constructor(readonly options: { secretKey: string; eventName: string; customers: readonly string[]; sessionTtlMs?: number }) {
    this.customers = new Set(options.customers);
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** The next requests fail like this, one failure per request, in order. */
  failNext(...failures: LocalStripeFailure[]): void {
    this.#failures.push(...failures);
  }

  /** Sum of accepted values per customer. */
  totals(): Map<string, bigint> {
    const out = new Map<string, bigint>();
    for (const e of this.events) out.set(e.customerId, (out.get(e.customerId) ?? 0n) + BigInt(e.value));
    return out;
  }

  async start(): Promise<void> {
    const server = createServer((req, res) => void this.#handle(req, res));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    this.port = (server.address() as { port: number }).port;
    this.#server = server;
  }

  async close(): Promise<void> {
    this.#server?.closeAllConnections();
    await new Promise<void>((resolve) => (this.#server ? this.#server.close(() => resolve()) : resolve()));
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    this.requests++;
    if (this.down) return send(res, 503, error('api_error', 'Stripe is down (LocalStripe.down)'));
    const failure = this.#failures.shift();
    if (failure && 'status' in failure) {
      const headers: Record<string, string> = failure.status === 429 && failure.retryAfterSeconds !== undefined ? { 'retry-after': String(failure.retryAfterSeconds) } : {};
      return send(res, failure.status, error(failure.status === 429 ? 'invalid_request_error' : 'api_error', failure.status === 429 ? 'Too many requests' : 'Internal error', failure.status === 429 ? 'rate_limit' : undefined), headers);
    }
    const answer = this.#accept(req, Buffer.concat(chunks).toString('utf8'));
    if (failure) {
      // The answer is lost: the event counts only when `processed`.
      if (!failure.processed) for (const event of answer.accepted ?? []) this.#forget(event);
      await new Promise((r) => setTimeout(r, failure.delayMs));
      if (res.destroyed || res.writableEnded) return;
    }
    send(res, answer.status, answer.body, answer.headers);
  }

  #accept(req: IncomingMessage, text: string): Answer {
    if (req.method === 'POST' && req.url === '/v1/billing/meter_events') return this.#meterEvent(req, text);
    if (req.method === 'POST' && req.url === '/v2/billing/meter_event_session') return this.#openSession(req);
    if (req.method === 'POST' && req.url === '/v2/billing/meter_event_stream') return this.#meterEventStream(req, text);
    return this.#refuse(404, `unknown route ${req.method} ${req.url}`, 'resource_missing');
  }

  #refuse(status: number, reason: string, code?: string): Answer {
    this.refused.push(reason);
    return { status, body: error('invalid_request_error', reason, code) };
  }

  /** v1: one form-encoded event, validated at once. */
  #meterEvent(req: IncomingMessage, text: string): Answer {
    if (req.headers.authorization !== `Bearer ${this.options.secretKey}`) return { status: 401, body: error('invalid_request_error', 'Invalid API Key provided') };
    if (!req.headers['content-type']?.startsWith('application/x-www-form-urlencoded')) return this.#refuse(400, `content-type ${req.headers['content-type']} is not form encoding`);
    if (!req.headers['stripe-version']) return this.#refuse(400, 'no Stripe-Version header');
    const form = new URLSearchParams(text);
    const event: ReceivedMeterEvent = {
      identifier: form.get('identifier') ?? '', eventName: form.get('event_name') ?? '', customerId: form.get('payload[stripe_customer_id]') ?? '',
      value: form.get('payload[value]') ?? '', timestamp: Number(form.get('timestamp')),
    };
    if (this.#seen.has(event.identifier)) {
      this.duplicates++;
      return { status: 400, body: error('invalid_request_error', `An event already exists with identifier ${event.identifier}.`), headers: { 'stripe-should-retry': 'false' } };
    }
    const problem = this.#problemOf(event);
    if (problem) return this.#refuse(400, problem, problem.startsWith('No such customer') ? 'resource_missing' : undefined);
    this.#count(event);
    const body = JSON.stringify({
      object: 'billing.meter_event', created: Math.floor(Date.now() / 1000), event_name: event.eventName, identifier: event.identifier, livemode: false,
      payload: { stripe_customer_id: event.customerId, value: event.value }, timestamp: event.timestamp,
    });
    return { status: 200, body, accepted: [event] };
  }

  /** v2: a meter event session (the secret key buys a short-lived token). */
  #openSession(req: IncomingMessage): Answer {
    if (req.headers.authorization !== `Bearer ${this.options.secretKey}`) return { status: 401, body: error('invalid_request_error', 'Invalid API Key provided') };
    const token = `mes_tok_${randomBytes(12).toString('hex')}`;
    const expiresAtMs = Date.now() + (this.options.sessionTtlMs ?? SESSION_TTL_MS);
    this.#sessions.set(token, expiresAtMs);
    this.sessionsOpened++;
    return { status: 200, body: JSON.stringify({ object: 'v2.billing.meter_event_session', id: `mes_${randomBytes(8).toString('hex')}`, authentication_token: token, created: new Date().toISOString(), expires_at: new Date(expiresAtMs).toISOString(), livemode: false }) };
  }

  /** v2: up to 100 JSON events under a session token; validated later, as Stripe does (failures land in `asyncErrors`). */
  #meterEventStream(req: IncomingMessage, text: string): Answer {
    const token = req.headers.authorization?.replace(/^Bearer /, '') ?? '';
    if ((this.#sessions.get(token) ?? 0) <= Date.now()) {
      return { status: 401, body: JSON.stringify({ error: { type: 'temporary_session_expired', message: 'The meter event session has expired; create a new one' } }) };
    }
    if (!req.headers['content-type']?.startsWith('application/json')) return this.#refuse(400, `content-type ${req.headers['content-type']} is not JSON`);
    let events: { event_name?: string; identifier?: string; timestamp?: string; payload?: { stripe_customer_id?: string; value?: string } }[];
    try {
      events = (JSON.parse(text) as { events: typeof events }).events;
    } catch {
      return this.#refuse(400, 'the body is not JSON');
    }
    if (!Array.isArray(events) || events.length === 0 || events.length > 100) return this.#refuse(400, 'events: 1 to 100 events per request');
    const accepted: ReceivedMeterEvent[] = [];
    for (const raw of events) {
      const event: ReceivedMeterEvent = {
        identifier: raw.identifier ?? '', eventName: raw.event_name ?? '', customerId: raw.payload?.stripe_customer_id ?? '',
        value: raw.payload?.value ?? '', timestamp: Math.floor(Date.parse(raw.timestamp ?? '') / 1000),
      };
      if (this.#seen.has(event.identifier)) {
        this.duplicates++;
        continue;
      }
      const problem = this.#problemOf(event);
      if (problem) this.asyncErrors.push({ identifier: event.identifier, reason: problem });
      else accepted.push(this.#count(event));
    }
    return { status: 200, body: '{}', accepted };
  }

  /** What Stripe would refuse in one event, or undefined. */
  #problemOf(event: ReceivedMeterEvent): string | undefined {
    const nowSeconds = Math.floor(Date.now() / 1000);
    if (event.eventName !== this.options.eventName) return `no meter with event_name ${event.eventName}`;
    if (!event.identifier || event.identifier.length > 100) return 'identifier must be 1 to 100 characters';
    if (!this.customers.has(event.customerId)) return `No such customer: '${event.customerId}'`;
    if (!/^\d+$/.test(event.value)) return `payload value ${event.value} is not a whole number`;
    if (!Number.isInteger(event.timestamp) || event.timestamp < nowSeconds - PAST_SECONDS_MAX || event.timestamp > nowSeconds + FUTURE_SECONDS_MAX) return `timestamp ${event.timestamp} is outside the accepted window`;
    return undefined;
  }

  #count(event: ReceivedMeterEvent): ReceivedMeterEvent {
    this.events.push(event);
    this.#seen.add(event.identifier);
    return event;
  }

  /** Ends every open session now (the next stream request gets 401 temporary_session_expired). */
  expireSessions(): void {
    this.#sessions.clear();
  }

  #forget(event: ReceivedMeterEvent): void {
    this.events.splice(this.events.indexOf(event), 1);
    this.#seen.delete(event.identifier);
  }
}

function error(type: string, message: string, code?: string): string {
  return JSON.stringify({ error: { type, message, ...(code ? { code } : {}) } });
}

function send(res: ServerResponse, status: number, body: string, headers: Record<string, string> = {}): void {
  if (res.destroyed) return;
  res.writeHead(status, { 'content-type': 'application/json', 'request-id': `req_local_${Date.now()}`, ...headers });
  res.end(body);
}
