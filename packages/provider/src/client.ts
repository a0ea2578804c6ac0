/**
 * @module client
 * The seller's connection to a Tollgate server: `authorize` (hold the price on the caller's API
 * key) and `settle` (capture on success, void otherwise), over `/v1/provider/…` with the seller's
 * API key. Refusals come back as `ProviderError` with the server's stable `code` and problem JSON.
 */

export interface ProviderClientOptions {
  /** The Tollgate server, e.g. `https://tollgate.example.com`. */
  url: string;
  /** A seller API key (`tollgate` admin: POST /v1/api-keys with role `seller`). */
  sellerKey: string;
  /** How long one request to Tollgate may take. */
  timeoutMs?: number;
  fetch?: typeof fetch;
}

export interface AuthorizeInput {
  service: string;
  tool: string;
  /** The caller's per-user API key. */
  apiKey: string;
  idempotencyKey: string;
  /** Decimal string, e.g. "0.01"; for usage pricing, the most the call may cost. */
  price: string;
  pricing?: 'fixed' | 'usage';
  fingerprint?: string;
  taskId?: string;
  reason?: string;
  approvalId?: string;
}

export type AuthorizeAnswer =
  | { type: 'authorized'; callId: string; hold: string; free: boolean; remaining: string }
  | { type: 'replayed'; callId: string; outcome: 'captured' | 'voided'; charged: string; remaining: string; result: Record<string, unknown> }
  | { type: 'in_flight'; callId: string; retryAfterSeconds: number };

export interface SettleInput {
  callId: string;
  status: 'ok' | 'tool_error' | 'upstream_failed' | 'upstream_timeout' | 'cancelled';
  /** Usage pricing: the actual amount (≤ the held price). */
  actual?: string;
  units?: number;
  chargeFailures?: boolean;
  summary?: string;
  latencyMs?: number;
  /** The tool or route (for the seller's usage events). */
  tool?: string;
}

export interface SettleAnswer {
  callId: string;
  outcome: 'captured' | 'voided';
  charged: string;
  remaining: string;
  replay: boolean;
}

/** A refusal or failure from Tollgate, with the problem details it answered. */
export class ProviderError extends Error {
  constructor(readonly code: string, readonly status: number, readonly problem: Record<string, unknown>) {
    super(String(problem.detail ?? code));
    this.name = 'ProviderError';
  }
}

/** Default time one Tollgate request may take. */
export const PROVIDER_TIMEOUT_MS_DEFAULT = 10_000;

export class ProviderClient {
  readonly #url: string;
  readonly #key: string;
  readonly #timeoutMs: number;
  readonly #fetch: typeof fetch;

  constructor(options: ProviderClientOptions) {
    if (!/^https?:\/\//.test(options.url)) throw new Error('ProviderClient: url must be an http(s) URL');
    if (!options.sellerKey) throw new Error('ProviderClient: sellerKey is required');
    this.#url = options.url.replace(/\/+$/, '');
    this.#key = options.sellerKey;
    this.#timeoutMs = options.timeoutMs ?? PROVIDER_TIMEOUT_MS_DEFAULT;
    this.#fetch = options.fetch ?? fetch;
  }

  authorize(input: AuthorizeInput): Promise<AuthorizeAnswer> {
    return this.#post('/v1/provider/authorize', input) as Promise<AuthorizeAnswer>;
  }

  settle(input: SettleInput): Promise<SettleAnswer> {
    return this.#post('/v1/provider/settle', input) as Promise<SettleAnswer>;
  }

  async #post(path: string, body: unknown): Promise<unknown> {
    let response: Response;
    try {
      response = await this.#fetch(`${this.#url}${path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-api-key': this.#key },
        body: JSON.stringify(body),
        signal: AbortSignal.timeout(this.#timeoutMs),
      });
    } catch (error) {
      throw new ProviderError('tollgate_unreachable', 503, { code: 'tollgate_unreachable', detail: `Tollgate at ${this.#url} did not answer: ${error instanceof Error ? error.message : String(error)}` });
    }
    const json = (await response.json().catch(() => ({}))) as Record<string, unknown>;
    if (!response.ok) throw new ProviderError(String(json.code ?? 'internal'), response.status, json);
    return json;
  }
}
