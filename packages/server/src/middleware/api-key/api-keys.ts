/**
 * @module middleware/api-key/api-keys
 * Admin API keys with a role: `admin` (everything), `buyer` (their org's grants, approvals, calls,
 * wallets), `seller` (their services, calls and earnings). Only the SHA-256 of a key is stored;
 * the key itself is shown once when created.
 */
import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import { TollgateError, type Db } from '@tollgate/core';
import { generateToken, hashToken, parseToken, tokenHint } from '@tollgate/core/tokens';

export const ROLES = ['admin', 'buyer', 'seller'] as const;
export type Role = (typeof ROLES)[number];

export const CreateApiKeySchema = z.strictObject({
  name: z.string().trim().min(1).max(200),
  role: z.enum(ROLES),
  /** Buyers: the org (and optionally the user) the key acts for. */
  orgId: z.string().min(1).max(200).optional(),
  userId: z.string().min(1).max(200).optional(),
  /** Sellers: the seller id whose services and earnings the key sees. */
  sellerId: z.string().min(1).max(200).optional(),
  mode: z.enum(['live', 'test']).default('live'),
});
export type CreateApiKeyInput = z.input<typeof CreateApiKeySchema>;

export interface ApiKeyPrincipal {
  keyId: string;
  role: Role;
  orgId: string | null;
  userId: string | null;
  sellerId: string | null;
}

export interface ApiKeyView extends ApiKeyPrincipal {
  name: string;
  hint: string;
  createdAt: Date;
  lastUsedAt: Date | null;
  revoked: boolean;
}

interface Row {
  id: string;
  key_hint: string;
  name: string;
  role: Role;
  org_id: string | null;
  user_id: string | null;
  seller_id: string | null;
  created_at: Date;
  last_used_at: Date | null;
  revoked_at: Date | null;
}

/** Seconds between `last_used_at` writes for one key, so authentication is not a write per request. */
const LAST_USED_WRITE_EVERY_MS = 60_000;

export class ApiKeys {
  readonly #db: Db;
  readonly #touched = new Map<string, number>();

  constructor(db: Db) {
    this.#db = db;
  }

  /** Creates a key; the secret is in the answer only. */
  async create(input: CreateApiKeyInput): Promise<{ key: ApiKeyView; secret: string }> {
    const parsed = CreateApiKeySchema.safeParse(input);
    if (!parsed.success) {
      const issue = parsed.error.issues[0]!;
      throw new TollgateError('invalid_request', `${issue.path.join('.') || 'body'}: ${issue.message}`, { field: issue.path.join('.') || 'body' });
    }
    const data = parsed.data;
    if (data.role === 'seller' && !data.sellerId) throw new TollgateError('invalid_request', 'sellerId: a seller key needs the seller it acts for', { field: 'sellerId' });
    if (data.role === 'buyer' && !data.orgId) throw new TollgateError('invalid_request', 'orgId: a buyer key needs the org it acts for', { field: 'orgId' });
    const secret = generateToken(data.mode, data.role === 'seller' ? 'seller_key' : 'admin_key');
    return { key: await this.#insert(secret, data), secret };
  }

  /** Stores a key given from outside (config `adminApiKey`, the demo); a repeat is a no-op. */
  async ensure(secret: string, input: Omit<CreateApiKeyInput, 'mode'>): Promise<void> {
    const [existing] = await this.#db.query('SELECT id FROM api_keys WHERE key_hash = $1', [hashToken(secret)]);
    if (!existing) await this.#insert(secret, { mode: 'live', ...input } as z.output<typeof CreateApiKeySchema>);
  }

  async #insert(secret: string, data: z.output<typeof CreateApiKeySchema>): Promise<ApiKeyView> {
    const id = `key_${randomBytes(12).toString('hex')}`;
    const [row] = await this.#db.query<Row>(
      `INSERT INTO api_keys (id, key_hash, key_hint, name, role, org_id, user_id, seller_id)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING *`,
      [id, hashToken(secret), tokenHint(secret), data.name, data.role, data.orgId ?? null, data.userId ?? null, data.sellerId ?? null],
    );
    return toView(row!);
  }

  /** The principal of a valid, unrevoked key, or undefined. Never throws on bad input. */
  async authenticate(secret: string): Promise<ApiKeyPrincipal | undefined> {
    // Generated keys carry a checksum, so a typo is refused before any lookup; keys set in the
    // configuration (`adminApiKey`) may have any shape and are looked up by hash.
    if (secret.length < 20 || secret.length > 200) return undefined;
    const generated = secret.startsWith('tg_ak_') || secret.startsWith('tg_sk_');
    if (generated && parseToken(secret, secret.startsWith('tg_sk_') ? 'seller_key' : 'admin_key').type !== 'valid') return undefined;
    const [row] = await this.#db.query<Row>('SELECT * FROM api_keys WHERE key_hash = $1 AND revoked_at IS NULL', [hashToken(secret)]);
    if (!row) return undefined;
    const now = Date.now();
    if ((this.#touched.get(row.id) ?? 0) + LAST_USED_WRITE_EVERY_MS < now) {
      this.#touched.set(row.id, now);
      await this.#db.query('UPDATE api_keys SET last_used_at = now() WHERE id = $1', [row.id]);
    }
    return { keyId: row.id, role: row.role, orgId: row.org_id, userId: row.user_id, sellerId: row.seller_id };
  }

  async list(): Promise<ApiKeyView[]> {
    return (await this.#db.query<Row>('SELECT * FROM api_keys ORDER BY created_at DESC LIMIT 1000')).map(toView);
  }

  async revoke(id: string): Promise<ApiKeyView> {
    const [row] = await this.#db.query<Row>('UPDATE api_keys SET revoked_at = coalesce(revoked_at, now()) WHERE id = $1 RETURNING *', [id]);
    if (!row) throw new TollgateError('not_found', `no API key ${id}`, { keyId: id });
    return toView(row);
  }
}

function toView(row: Row): ApiKeyView {
  return {
    keyId: row.id,
    name: row.name,
    hint: row.key_hint,
    role: row.role,
    orgId: row.org_id,
    userId: row.user_id,
    sellerId: row.seller_id,
    createdAt: row.created_at,
    lastUsedAt: row.last_used_at,
    revoked: row.revoked_at !== null,
  };
}
