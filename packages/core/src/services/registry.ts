/**
 * @module services/registry
 * The service registry: paid upstreams, their prices and their credentials. Credentials are read
 * only by `resolve()` (the proxy's hot path) and never by a listing, so no API answer can carry them.
 * `resolve()` keeps a short cache because every proxied call needs the service.
 */
import type { Db } from '../db/db.ts';
import { TollgateError } from '../errors.ts';
import { AMOUNT_MICROS_MAX } from '../constants.ts';
import type { ServiceRef } from '../guard/types.ts';
import { newId } from '../ids.ts';
import { parseInput } from '../validate.ts';
import { CreateServiceSchema, UpdateServiceSchema, type CreateServiceInput, type PriceRule, type UpdateServiceInput } from './schemas.ts';
import { checkUpstreamUrl, type Lookup, type UpstreamPolicy } from './upstream-address.ts';

export interface Service {
  id: string;
  slug: string;
  kind: 'http' | 'mcp';
  name: string;
  baseUrl: string | null;
  mcp: { command?: string[]; url?: string } | null;
  sellerId: string;
  category: string;
  sensitivity: 'low' | 'medium' | 'high';
  freeCallsPerMonth: number;
  chargeFailedCalls: boolean;
  timeoutMs: number;
  prices: PriceRule[];
  /** Names of injected headers only; values stay in the database. */
  credentialHeaders: string[];
  metadata: Record<string, unknown>;
  disabled: boolean;
  createdAt: Date;
  updatedAt: Date;
}

/** What the proxy needs: the service and the headers to inject. Never serialize this. */
export interface ResolvedService {
  service: Service;
  ref: ServiceRef;
  credentialHeaders: Readonly<Record<string, string>>;
}

export interface ServiceRegistryOptions {
  db: Db;
  upstreams?: UpstreamPolicy;
  /** How long `resolve()` trusts a cached service (another process may have changed it). */
  cacheTtlMs?: number;
  lookup?: Lookup;
  now?: () => number;
}

/** Most services one listing returns. */
export const SERVICES_PAGE_MAX = 1_000;

interface ServiceRow {
  id: string;
  slug: string;
  kind: 'http' | 'mcp';
  name: string;
  base_url: string | null;
  mcp: Service['mcp'];
  seller_id: string;
  category: string;
  sensitivity: Service['sensitivity'];
  free_calls_per_month: number;
  charge_failed_calls: boolean;
  timeout_ms: number;
  prices: PriceRule[];
  credential_names: string[] | null;
  metadata: Record<string, unknown>;
  disabled_at: Date | null;
  created_at: Date;
  updated_at: Date;
}

const COLUMNS = `id, slug, kind, name, base_url, mcp, seller_id, category, sensitivity, free_calls_per_month, charge_failed_calls,
  timeout_ms, prices, (SELECT coalesce(jsonb_agg(k), '[]'::jsonb) FROM jsonb_object_keys(credentials->'headers') k) AS credential_names,
  metadata, disabled_at, created_at, updated_at`;

export class ServiceRegistry {
  readonly #db: Db;
  readonly #policy: UpstreamPolicy;
  readonly #ttlMs: number;
  readonly #lookup: Lookup | undefined;
  readonly #now: () => number;
  readonly #cache = new Map<string, { at: number; value: ResolvedService }>();

  constructor(options: ServiceRegistryOptions) {
    this.#db = options.db;
    this.#policy = options.upstreams ?? {};
    this.#ttlMs = options.cacheTtlMs ?? 2_000;
    this.#lookup = options.lookup;
    this.#now = options.now ?? Date.now;
  }

  get upstreamPolicy(): UpstreamPolicy {
    return this.#policy;
  }

  async create(input: CreateServiceInput): Promise<Service> {
    const data = parseInput(CreateServiceSchema, input);
    checkHolds(data.prices);
    if (data.baseUrl) await this.checkUrl(data.baseUrl, 'baseUrl');
    if (data.mcp?.url) await this.checkUrl(data.mcp.url, 'mcp.url');
    const id = newId('svc');
    const rows = await this.#db.query<{ id: string }>(
      `INSERT INTO services (id, slug, kind, name, base_url, mcp, seller_id, category, sensitivity, free_calls_per_month,
         charge_failed_calls, timeout_ms, prices, credentials, metadata)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)
       ON CONFLICT (slug) DO NOTHING RETURNING id`,
      [id, data.slug, data.kind, data.name ?? data.slug, data.baseUrl?.replace(/\/+$/, '') ?? null, data.mcp ? JSON.stringify(data.mcp) : null,
        data.sellerId, data.category, data.sensitivity, data.freeCallsPerMonth, data.chargeFailedCalls, data.timeoutMs,
        JSON.stringify(data.prices), JSON.stringify(data.credentials ?? { headers: {} }), JSON.stringify(data.metadata ?? {})],
    );
    if (rows.length === 0) throw new TollgateError('conflict', `slug: a service named ${data.slug} already exists`, { field: 'slug', slug: data.slug });
    return this.get(id);
  }

  async update(idOrSlug: string, input: UpdateServiceInput): Promise<Service> {
    const data = parseInput(UpdateServiceSchema, input);
    const current = await this.get(idOrSlug);
    if (data.prices) checkHolds(data.prices);
    if (data.baseUrl) await this.checkUrl(data.baseUrl, 'baseUrl');
    if (data.mcp?.url) await this.checkUrl(data.mcp.url, 'mcp.url');
    const sets: string[] = [];
    const params: unknown[] = [current.id];
    const set = (column: string, value: unknown) => {
      params.push(value);
      sets.push(`${column} = $${params.length}`);
    };
    if (data.name !== undefined) set('name', data.name);
    if (data.baseUrl !== undefined) set('base_url', data.baseUrl.replace(/\/+$/, ''));
    if (data.mcp !== undefined) set('mcp', JSON.stringify(data.mcp));
    if (data.credentials !== undefined) set('credentials', JSON.stringify(data.credentials));
    if (data.prices !== undefined) set('prices', JSON.stringify(data.prices));
    if (data.freeCallsPerMonth !== undefined) set('free_calls_per_month', data.freeCallsPerMonth);
    if (data.category !== undefined) set('category', data.category);
    if (data.sensitivity !== undefined) set('sensitivity', data.sensitivity);
    if (data.chargeFailedCalls !== undefined) set('charge_failed_calls', data.chargeFailedCalls);
    if (data.timeoutMs !== undefined) set('timeout_ms', data.timeoutMs);
    if (data.metadata !== undefined) set('metadata', JSON.stringify(data.metadata));
    if (data.disabled !== undefined) sets.push(data.disabled ? 'disabled_at = coalesce(disabled_at, now())' : 'disabled_at = NULL');
    if (sets.length > 0) await this.#db.query(`UPDATE services SET ${sets.join(', ')}, updated_at = now() WHERE id = $1`, params);
    this.#cache.delete(current.slug);
    return this.get(current.id);
  }

  /** A service by id (`svc_…`) or slug; `not_found` otherwise. */
  async get(idOrSlug: string): Promise<Service> {
    const [row] = await this.#db.query<ServiceRow>(`SELECT ${COLUMNS} FROM services WHERE id = $1 OR slug = $1`, [idOrSlug]);
    if (!row) throw new TollgateError('not_found', `no service ${idOrSlug}`, { service: idOrSlug });
    return toService(row);
  }

  async list(options: { sellerId?: string; limit?: number } = {}): Promise<Service[]> {
    const limit = Math.min(options.limit ?? SERVICES_PAGE_MAX, SERVICES_PAGE_MAX);
    const rows = await this.#db.query<ServiceRow>(
      `SELECT ${COLUMNS} FROM services WHERE ($1::text IS NULL OR seller_id = $1) ORDER BY slug LIMIT $2`,
      [options.sellerId ?? null, limit],
    );
    return rows.map(toService);
  }

  /**
   * The service behind a proxy route, with its credentials, or `not_found` (also for a disabled one).
   * The upstream address is checked against the SSRF policy again (`upstream_failed` when refused).
   * Cached for `cacheTtlMs`; an update through this registry drops the entry at once.
   */
  async resolve(slug: string): Promise<ResolvedService> {
    const now = this.#now();
    const hit = this.#cache.get(slug);
    if (hit && now - hit.at < this.#ttlMs) return hit.value;
    const [row] = await this.#db.query<ServiceRow & { credentials: { headers?: Record<string, string> } }>(
      `SELECT ${COLUMNS}, credentials FROM services WHERE slug = $1 AND disabled_at IS NULL`,
      [slug],
    );
    if (!row) {
      this.#cache.delete(slug);
      throw new TollgateError('not_found', `no service ${slug}`, { service: slug });
    }
    const service = toService(row);
    // Checked again here, not only at registration: a name may resolve elsewhere now (DNS
    // rebinding), or the policy may have been tightened since.
    if (service.baseUrl) await this.#checkForwarding(service, service.baseUrl, 'baseUrl');
    if (service.mcp?.url) await this.#checkForwarding(service, service.mcp.url, 'mcp.url');
    const value: ResolvedService = { service, ref: toServiceRef(service), credentialHeaders: Object.freeze({ ...(row.credentials?.headers ?? {}) }) };
    if (this.#cache.size > 10_000) this.#cache.clear();
    this.#cache.set(slug, { at: now, value });
    return value;
  }

  async #checkForwarding(service: Service, url: string, field: string): Promise<void> {
    try {
      await this.checkUrl(url, field);
    } catch (error) {
      const detail = error instanceof TollgateError ? error.message : String(error);
      throw new TollgateError('upstream_failed', `The upstream of ${service.slug} is not allowed now (${detail}); nothing was charged`, { service: service.slug, reason: 'upstream_address_refused' });
    }
  }

  /** Applies the configured SSRF policy to a URL (see upstream-address.ts). */
  async checkUrl(url: string, field = 'baseUrl'): Promise<string[]> {
    return checkUpstreamUrl(url, this.#policy, { field, ...(this.#lookup ? { lookup: this.#lookup } : {}) });
  }
}

/** What the guard needs to know about a service. */
export function toServiceRef(service: Service): ServiceRef {
  return {
    id: service.id,
    slug: service.slug,
    kind: service.kind,
    sellerId: service.sellerId,
    category: service.category,
    sensitivity: service.sensitivity,
    freeCallsPerMonth: service.freeCallsPerMonth,
  };
}

/** A per-unit rule must be able to hold its maximum in one transfer. */
function checkHolds(prices: readonly PriceRule[]): void {
  prices.forEach((rule, index) => {
    if (rule.type !== 'per_unit') return;
    const [whole = '0', fraction = ''] = rule.unitPrice.split('.');
    const unitMicros = BigInt(whole) * 1_000_000n + BigInt(fraction.padEnd(6, '0'));
    if (unitMicros * BigInt(rule.maxUnits) > AMOUNT_MICROS_MAX) {
      throw new TollgateError('invalid_request', `prices.${index}.maxUnits: unitPrice × maxUnits exceeds the largest amount one call may hold`, { field: `prices.${index}.maxUnits` });
    }
  });
}

function toService(row: ServiceRow): Service {
  return {
    id: row.id,
    slug: row.slug,
    kind: row.kind,
    name: row.name,
    baseUrl: row.base_url,
    mcp: row.mcp,
    sellerId: row.seller_id,
    category: row.category,
    sensitivity: row.sensitivity,
    freeCallsPerMonth: row.free_calls_per_month,
    chargeFailedCalls: row.charge_failed_calls,
    timeoutMs: row.timeout_ms,
    prices: row.prices,
    credentialHeaders: row.credential_names ?? [],
    metadata: row.metadata ?? {},
    disabled: row.disabled_at !== null,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}
