/**
 * @module ids
 * Random, prefixed ids (`org_…`, `grant_…`): the prefix says what an id names wherever it shows up
 * (logs, ledger metadata, support tickets), and 96 random bits make guessing one pointless.
 */
import { randomBytes } from 'node:crypto';

export type IdPrefix = 'org' | 'prj' | 'usr' | 'agt' | 'grant' | 'call' | 'svc' | 'sel' | 'key' | 'po';

export function newId(prefix: IdPrefix): string {
  return `${prefix}_${randomBytes(12).toString('hex')}`;
}
