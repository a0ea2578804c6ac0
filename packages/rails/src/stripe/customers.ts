/**
 * @module stripe/customers
 * Which Stripe customer pays for whose usage: a mapping per user, or per org for every user of the
 * org (a user's own mapping wins). Stored in `stripe_customers` (migration 006). Principals with no
 * mapping are not billed through Stripe (they pay from their prepaid balance), so their usage is
 * not reported.
 */
import { TollgateError, type Db } from '@tollgate/core';

export type CustomerSubject = 'user' | 'org';

/** Stripe customer ids look like `cus_…`. */
export const STRIPE_CUSTOMER_ID = /^cus_[A-Za-z0-9]{1,250}$/;
/** How long a resolved mapping is reused before it is read again. */
export const CUSTOMER_CACHE_MS = 1_000;
/** Most cached lookups (past it the cache starts over). */
const CUSTOMER_CACHE_ENTRIES_MAX = 100_000;

export interface CustomerMapping {
  subject: CustomerSubject;
  subjectId: string;
  customerId: string;
  updatedAt: Date;
}

interface Row {
  subject_kind: CustomerSubject;
  subject_id: string;
  customer_id: string;
  updated_at: Date;
}

export class StripeCustomers {
  readonly #db: Db;
  readonly #cache = new Map<string, { customerId: string | undefined; atMs: number }>();
  constructor(db: Db) {
    this.#db = db;
  }

  async set(subject: CustomerSubject, subjectId: string, customerId: string): Promise<CustomerMapping> {
    if (!STRIPE_CUSTOMER_ID.test(customerId)) throw new TollgateError('invalid_request', `customerId: ${JSON.stringify(customerId.slice(0, 40))} is not a Stripe customer id (cus_…)`, { field: 'customerId' });
    const [row] = await this.#db.query<Row>(
      `INSERT INTO stripe_customers (subject_kind, subject_id, customer_id) VALUES ($1, $2, $3)
       ON CONFLICT (subject_kind, subject_id) DO UPDATE SET customer_id = EXCLUDED.customer_id, updated_at = now()
       RETURNING *`,
      [subject, subjectId, customerId],
    );
    this.#cache.clear();
    return mappingOf(row!);
  }

  async get(subject: CustomerSubject, subjectId: string): Promise<CustomerMapping | undefined> {
    const [row] = await this.#db.query<Row>('SELECT * FROM stripe_customers WHERE subject_kind = $1 AND subject_id = $2', [subject, subjectId]);
    return row ? mappingOf(row) : undefined;
  }

  /** Removes a mapping; later usage of the subject is no longer reported. Returns whether one existed. */
  async remove(subject: CustomerSubject, subjectId: string): Promise<boolean> {
    const rows = await this.#db.query('DELETE FROM stripe_customers WHERE subject_kind = $1 AND subject_id = $2 RETURNING subject_id', [subject, subjectId]);
    this.#cache.clear();
    return rows.length > 0;
  }

  /** The customer for each (user, org) pair: the user's mapping, else the org's, else undefined. One query for a whole batch. */
  async resolve(principals: readonly { userId: string | null; orgId: string | null | undefined }[]): Promise<(string | undefined)[]> {
    const nowMs = Date.now();
    const keys = principals.flatMap((p) => [p.userId ? `user:${p.userId}` : undefined, p.orgId ? `org:${p.orgId}` : undefined]).filter((k): k is string => k !== undefined);
    const missing = [...new Set(keys)].filter((k) => {
      const hit = this.#cache.get(k);
      return !hit || nowMs - hit.atMs > CUSTOMER_CACHE_MS;
    });
    if (missing.length > 0) {
      if (this.#cache.size > CUSTOMER_CACHE_ENTRIES_MAX) this.#cache.clear();
      const rows = await this.#db.query<Row>(
        `SELECT * FROM stripe_customers WHERE subject_kind || ':' || subject_id IN (SELECT jsonb_array_elements_text($1::jsonb))`,
        [JSON.stringify(missing)],
      );
      const found = new Map(rows.map((r) => [`${r.subject_kind}:${r.subject_id}`, r.customer_id]));
      for (const key of missing) this.#cache.set(key, { customerId: found.get(key), atMs: nowMs });
    }
    return principals.map((p) => (p.userId ? this.#cache.get(`user:${p.userId}`)?.customerId : undefined) ?? (p.orgId ? this.#cache.get(`org:${p.orgId}`)?.customerId : undefined));
  }
}

function mappingOf(row: Row): CustomerMapping {
  return { subject: row.subject_kind, subjectId: row.subject_id, customerId: row.customer_id, updatedAt: new Date(row.updated_at) };
}
