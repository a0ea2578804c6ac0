/**
 * @module dashboard/stream-tickets
 * Short-lived tickets that let a browser open a server-sent-events stream. `EventSource` cannot set
 * an Authorization header, and putting the API key in the URL would leave it in proxy and access
 * logs. So the page asks for a ticket with its key (POST, header auth) and opens the stream with
 * `?ticket=…`. A ticket:
 *  - names only the API key's id and carries no secret; it is signed (HMAC-SHA256) with a secret kept
 *    in the `settings` table, so any server process on the same database can check it;
 *  - must be redeemed within `ttlMs` (30 s) and is single-use in the process that redeems it;
 *  - is worth no more than the key: on redemption (and again every minute while the stream is open)
 *    the key is looked up, so a revoked key's streams end.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { TollgateError, type Db } from '@tollgate/core';
import type { ApiKeyPrincipal, Role } from '../middleware/api-key/index.ts';

export const STREAM_TICKET_TTL_MS = 30_000;
const SECRET_KEY = 'dashboard_stream_ticket_secret';
/** Redeemed nonces remembered (until their ticket expires), to refuse a second use. */
const USED_NONCES_MAX = 100_000;

interface Payload {
  /** API key id. */
  k: string;
  /** Expiry, ms since the epoch. */
  e: number;
  n: string;
}

export class StreamTickets {
  readonly #db: Db;
  readonly #ttlMs: number;
  readonly #now: () => number;
  readonly #used = new Map<string, number>();
  #secret: Promise<Buffer> | undefined;

  constructor(db: Db, options: { ttlMs?: number; now?: () => number } = {}) {
    this.#db = db;
    this.#ttlMs = options.ttlMs ?? STREAM_TICKET_TTL_MS;
    this.#now = options.now ?? Date.now;
  }

  async issue(principal: ApiKeyPrincipal): Promise<{ ticket: string; expiresAt: string }> {
    const payload: Payload = { k: principal.keyId, e: this.#now() + this.#ttlMs, n: randomBytes(12).toString('base64url') };
    const body = Buffer.from(JSON.stringify(payload)).toString('base64url');
    return { ticket: `tkt_${body}.${await this.#sign(body)}`, expiresAt: new Date(payload.e).toISOString() };
  }

  /** The principal of a valid, unused, unexpired ticket whose key is still valid; else `unauthorized`. */
  async redeem(ticket: string): Promise<ApiKeyPrincipal> {
    const refused = (why: string) => new TollgateError('unauthorized', `ticket: ${why}; ask POST /v1/dashboard/stream-tickets for a new one`, { field: 'ticket' });
    const match = /^tkt_([A-Za-z0-9_-]{1,400})\.([A-Za-z0-9_-]{43})$/.exec(ticket);
    if (!match) throw refused('is not a stream ticket');
    const [, body, mac] = match as unknown as [string, string, string];
    const expected = Buffer.from(await this.#sign(body));
    if (!timingSafeEqual(expected, Buffer.from(mac))) throw refused('is not valid');
    const payload = JSON.parse(Buffer.from(body, 'base64url').toString('utf8')) as Payload;
    const now = this.#now();
    if (payload.e <= now) throw refused('has expired');
    this.#prune(now);
    if (this.#used.has(payload.n)) throw refused('was already used');
    if (this.#used.size >= USED_NONCES_MAX) throw new TollgateError('rate_limited', 'too many stream tickets in flight; try again shortly', { retryAfterSeconds: 5 });
    this.#used.set(payload.n, payload.e);
    const principal = await principalOfKey(this.#db, payload.k);
    if (!principal) throw refused('its API key was revoked');
    return principal;
  }

  #prune(now: number): void {
    for (const [nonce, expires] of this.#used) if (expires <= now) this.#used.delete(nonce);
  }

  async #sign(body: string): Promise<string> {
    this.#secret ??= this.#loadSecret();
    return createHmac('sha256', await this.#secret).update(body).digest('base64url');
  }

  async #loadSecret(): Promise<Buffer> {
    // First process to start writes it; every other process reads the same one.
    await this.#db.query('INSERT INTO settings (key, value) VALUES ($1, $2) ON CONFLICT (key) DO NOTHING', [SECRET_KEY, JSON.stringify({ secret: randomBytes(32).toString('base64url') })]);
    const [row] = await this.#db.query<{ value: { secret: string } }>('SELECT value FROM settings WHERE key = $1', [SECRET_KEY]);
    if (!row) throw new Error('the stream ticket secret could not be stored');
    return Buffer.from(row.value.secret, 'base64url');
  }
}

/** The principal of an API key by id, if it is not revoked (for re-checks of open streams). */
export async function principalOfKey(db: Db, keyId: string): Promise<ApiKeyPrincipal | undefined> {
  const [row] = await db.query<{ id: string; role: Role; org_id: string | null; user_id: string | null; seller_id: string | null }>(
    'SELECT id, role, org_id, user_id, seller_id FROM api_keys WHERE id = $1 AND revoked_at IS NULL',
    [keyId],
  );
  return row ? { keyId: row.id, role: row.role, orgId: row.org_id, userId: row.user_id, sellerId: row.seller_id } : undefined;
}
