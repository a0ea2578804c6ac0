/**
 * @module live
 * One server-sent-events connection per signed-in page: it asks for a single-use stream ticket with
 * the API key (EventSource cannot send headers, and the key must not go into a URL), opens
 * `/v1/dashboard/events?ticket=…`, and reconnects with a fresh ticket and back-off when the stream
 * ends or fails.
 */
import { post, withQuery } from './api.ts';

// The event shapes are the server's wire contract (server/src/dashboard/live-feed.ts: FeedCall,
// FeedApproval), declared again here because the dashboard depends on no Tollgate package.

export interface LiveCall {
  seq: string;
  callId: string;
  outcome: 'captured' | 'voided' | 'refused' | 'expired';
  service: string;
  tool: string;
  taskId: string | null;
  agentId: string | null;
  priceMicros: string;
  capturedMicros: string;
  errorCode: string | null;
  status: string;
  latencyMs: number | null;
  createdAt: string;
}

export interface PendingApproval {
  id: string;
  orgId: string;
  userId: string;
  grantId: string;
  callId: string;
  taskId: string | null;
  agentId: string | null;
  service: string;
  tool: string;
  priceMicros: string;
  reason: string | null;
  trigger: string;
  ruleId: string | null;
  explanation: string;
  scope: 'call' | 'task' | 'raise_cap';
  raiseMicros: string | null;
  expiresAt: string;
  createdAt: string;
}

export type LiveStatus = 'connecting' | 'live' | 'offline';

export interface LiveHandlers {
  onCall(call: LiveCall): void;
  onApprovals(pending: PendingApproval[]): void;
  onStatus(status: LiveStatus): void;
}

const BACKOFF_MS_MAX = 15_000;

export class LiveConnection {
  readonly #handlers: LiveHandlers;
  readonly #query: Record<string, string | undefined>;
  #source: EventSource | undefined;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #backoffMs = 1_000;
  #stopped = false;

  constructor(handlers: LiveHandlers, query: { orgId?: string | undefined; topics: string }) {
    this.#handlers = handlers;
    this.#query = query;
  }

  start(): void {
    this.#stopped = false;
    void this.#open();
  }

  stop(): void {
    this.#stopped = true;
    clearTimeout(this.#timer);
    this.#source?.close();
    this.#source = undefined;
  }

  async #open(): Promise<void> {
    this.#handlers.onStatus('connecting');
    let ticket: string;
    try {
      ticket = (await post<{ ticket: string }>('/v1/dashboard/stream-tickets')).ticket;
    } catch {
      this.#retry();
      return;
    }
    if (this.#stopped) return;
    const source = new EventSource(withQuery('/v1/dashboard/events', { ...this.#query, ticket }));
    this.#source = source;
    source.addEventListener('ready', () => {
      this.#backoffMs = 1_000;
      this.#handlers.onStatus('live');
    });
    source.addEventListener('call', (e) => this.#handlers.onCall(JSON.parse((e as MessageEvent<string>).data) as LiveCall));
    source.addEventListener('approvals', (e) => this.#handlers.onApprovals((JSON.parse((e as MessageEvent<string>).data) as { pending: PendingApproval[] }).pending));
    const restart = () => {
      source.close();
      if (this.#source === source) this.#retry();
    };
    source.addEventListener('end', restart);
    // EventSource would retry with the same (now used) ticket; a fresh ticket is needed instead.
    source.onerror = restart;
  }

  #retry(): void {
    if (this.#stopped) return;
    this.#source = undefined;
    this.#handlers.onStatus('offline');
    this.#timer = setTimeout(() => void this.#open(), this.#backoffMs);
    this.#backoffMs = Math.min(this.#backoffMs * 2, BACKOFF_MS_MAX);
  }
}
