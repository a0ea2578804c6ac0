/**
 * @module limits/limit-settings
 * Configures the limits that apply to paid calls. A new cap applies from the next period account;
 * raising the current period's cap is an explicit, audited ledger transfer (`LimitBook.raise`).
 */
import { configEpoch } from '../batching/config-epoch.ts';
import { z } from 'zod';
import type { Db } from '../db/db.ts';
import { TollgateError } from '../errors.ts';
import { parseMicros } from '../money.ts';
import { MoneyString } from '../principals/schemas.ts';
import { parseInput } from '../validate.ts';

export const ServiceLimitSchema = z.strictObject({
  orgId: z.string().min(1),
  serviceId: z.string().min(1),
  /** What each user of the org may spend on this service per calendar month. */
  perUserMonthly: MoneyString,
});
export type ServiceLimitInput = z.input<typeof ServiceLimitSchema>;

export const MonthlyLimitSchema = z.strictObject({
  scope: z.enum(['org', 'project', 'user']),
  id: z.string().min(1),
  monthly: MoneyString.nullable(),
});
export type MonthlyLimitInput = z.input<typeof MonthlyLimitSchema>;

const TABLE = { org: 'orgs', project: 'projects', user: 'users' } as const;

export class LimitSettings {
  readonly #db: Db;

  constructor(db: Db) {
    this.#db = db;
  }

  async setServiceLimit(input: ServiceLimitInput): Promise<void> {
    const data = parseInput(ServiceLimitSchema, input);
    await this.#db.query(
      `INSERT INTO service_limits (org_id, service_id, per_user_monthly_limit_micros) VALUES ($1, $2, $3)
       ON CONFLICT (org_id, service_id) DO UPDATE SET per_user_monthly_limit_micros = EXCLUDED.per_user_monthly_limit_micros`,
      [data.orgId, data.serviceId, parseMicros(data.perUserMonthly, { field: 'perUserMonthly' })],
    );
    configEpoch(this.#db).bump();
  }

  async setMonthlyLimit(input: MonthlyLimitInput): Promise<void> {
    const data = parseInput(MonthlyLimitSchema, input);
    const micros = data.monthly === null ? null : parseMicros(data.monthly, { field: 'monthly' });
    const rows = await this.#db.query(`UPDATE ${TABLE[data.scope]} SET monthly_limit_micros = $2 WHERE id = $1 RETURNING id`, [data.id, micros]);
    if (rows.length === 0) throw new TollgateError('not_found', `${data.scope} ${data.id} does not exist`, { field: 'id' });
    configEpoch(this.#db).bump();
  }
}
