/**
 * @module audit/filters
 * Filters → one parameterized WHERE clause. Every filter column has an index ending in `seq`, so a
 * page is an index range scan whatever the filter; pages use a seq cursor (keyset), never OFFSET.
 */
import { invalid } from '../errors.ts';
import type { AuditFilter } from './types.ts';

const COLUMN_OF: Record<string, string> = {
  orgId: 'org_id', userId: 'user_id', grantId: 'grant_id', agentId: 'agent_id', taskId: 'task_id', service: 'service', outcome: 'outcome',
};

export interface Where {
  sql: string;
  params: unknown[];
}

export function whereOf(filter: AuditFilter): Where {
  const clauses: string[] = [];
  const params: unknown[] = [];
  for (const [key, column] of Object.entries(COLUMN_OF)) {
    const value = (filter as Record<string, unknown>)[key];
    if (value === undefined || value === null) continue;
    if (typeof value !== 'string') throw invalid(key, 'must be a string');
    params.push(value);
    clauses.push(`${column} = $${params.length}`);
  }
  for (const [key, op] of [['from', '>='], ['to', '<']] as const) {
    const value = filter[key];
    if (value === undefined) continue;
    if (!(value instanceof Date) || Number.isNaN(value.getTime())) throw invalid(key, 'must be a valid date');
    params.push(value);
    clauses.push(`created_at ${op} $${params.length}`);
  }
  return { sql: clauses.length > 0 ? clauses.join(' AND ') : 'true', params };
}

export function seqCursor(field: string, value: string | undefined): bigint | undefined {
  if (value === undefined) return undefined;
  if (!/^[0-9]{1,19}$/.test(value)) throw invalid(field, 'is not a cursor returned by a previous page');
  return BigInt(value);
}
