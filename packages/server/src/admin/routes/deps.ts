/**
 * @module admin/routes/deps
 * What admin routes need, and the scoping rules of the roles: an admin sees everything, a buyer key
 * only its org, a seller key only its seller id.
 */
import { z } from 'zod';
import { TollgateError, type ServiceRegistry, type Tollgate } from '@tollgate/core';
import type { ApiKeyPrincipal, ApiKeys } from '../../middleware/api-key/index.ts';

export interface AdminDeps {
  tg: Tollgate;
  services: ServiceRegistry;
  apiKeys: ApiKeys;
}

export const IdParams = z.strictObject({ id: z.string().min(1).max(200) });

/** Paging shared by listings: `limit` ≤ 1000 and an opaque `before` cursor. */
export const Paging = {
  limit: z.coerce.number().int().min(1).max(1000).optional(),
  before: z.string().min(1).max(500).optional(),
};

export function requireOrg(principal: ApiKeyPrincipal, orgId: string | null | undefined): void {
  if (principal.role === 'admin') return;
  if (principal.role === 'buyer' && orgId && principal.orgId === orgId) return;
  throw new TollgateError('forbidden', 'this key may only act on its own org', { role: principal.role });
}

/** The org filter a listing must apply for this principal (undefined = all, for admins). */
export function orgFilter(principal: ApiKeyPrincipal, requested?: string): string | undefined {
  if (principal.role === 'admin') return requested;
  if (principal.role === 'buyer') {
    if (requested && requested !== principal.orgId) throw new TollgateError('forbidden', 'this key may only read its own org', { role: principal.role });
    return principal.orgId ?? '\u0000none';
  }
  throw new TollgateError('forbidden', 'seller keys cannot read buyer data', { role: principal.role });
}

export function sellerFilter(principal: ApiKeyPrincipal, requested?: string): string | undefined {
  if (principal.role === 'seller') {
    if (requested && requested !== principal.sellerId) throw new TollgateError('forbidden', 'this key may only read its own seller id', { role: principal.role });
    return principal.sellerId ?? '\u0000none';
  }
  return requested;
}

/** The org an owner (org or user) belongs to. */
export async function orgOfOwner(tg: Tollgate, ownerId: string): Promise<string> {
  if (ownerId.startsWith('org_')) return ownerId;
  const user = await tg.principals.getUser(ownerId);
  return user.orgId;
}
