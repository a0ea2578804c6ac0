/**
 * @module admin/routes/wallets
 * Wallet balances and top-ups, seller earnings, and the ledger's accounts and transfers.
 */
import { z } from 'zod';
import { TollgateError, TopUpSchema, accountId } from '@tollgate/core';
import { route, type RouteDef } from '../route.ts';
import { Paging, orgOfOwner, requireOrg, sellerFilter, type AdminDeps } from './deps.ts';

const Balance = z.object({ ownerId: z.string(), currency: z.string(), availableMicros: z.string(), heldMicros: z.string(), postedMicros: z.string() });
const OwnerParams = z.strictObject({ ownerId: z.string().min(1).max(200) });

export function walletRoutes({ tg }: AdminDeps): RouteDef[] {
  return [
    route({ method: 'post', path: '/v1/wallets/top-ups', tag: 'wallets', summary: 'Add funds to a wallet (idempotent by reference)', roles: ['admin'], body: TopUpSchema, status: 201,
      response: z.object({ transferId: z.string(), applied: z.boolean(), balance: Balance }), handler: async ({ body }) => tg.wallets.topUp(body) }),
    route({ method: 'get', path: '/v1/wallets/:ownerId', tag: 'wallets', summary: 'Balance of a user\'s or org\'s wallet', roles: ['admin', 'buyer'], params: OwnerParams, response: Balance, handler: async ({ params, principal }) => {
      if (principal.role !== 'admin') requireOrg(principal, await orgOfOwner(tg, params.ownerId));
      return tg.wallets.balance(params.ownerId);
    } }),
    route({ method: 'get', path: '/v1/wallets/:ownerId/transfers', tag: 'wallets', summary: 'Ledger transfers of a wallet, newest first', roles: ['admin', 'buyer'], params: OwnerParams, query: z.strictObject(Paging), handler: async ({ params, query, principal }) => {
      if (principal.role !== 'admin') requireOrg(principal, await orgOfOwner(tg, params.ownerId));
      return tg.wallets.transactions(params.ownerId, query);
    } }),
    route({ method: 'get', path: '/v1/sellers/:sellerId/earnings', tag: 'sellers', summary: 'What a seller has earned (captured calls minus fees)', roles: ['admin', 'seller'], params: z.strictObject({ sellerId: z.string().min(1).max(200) }),
      response: z.object({ sellerId: z.string(), currency: z.string().nullable(), earnedMicros: z.string(), paidOutMicros: z.string(), balanceMicros: z.string() }), handler: async ({ params, principal }) => {
        sellerFilter(principal, params.sellerId);
        const [account] = await tg.ledger.lookupAccounts([accountId.earnings(params.sellerId)]);
        if (!account) return { sellerId: params.sellerId, currency: null, earnedMicros: 0n, paidOutMicros: 0n, balanceMicros: 0n };
        return { sellerId: params.sellerId, currency: account.currency, earnedMicros: account.creditsPosted, paidOutMicros: account.debitsPosted, balanceMicros: account.creditsPosted - account.debitsPosted };
      } }),
    route({ method: 'get', path: '/v1/ledger/accounts', tag: 'ledger', summary: 'Look up ledger accounts by id (comma-separated `ids`)', roles: ['admin'], query: z.strictObject({ ids: z.string().min(1).max(10_000) }), handler: async ({ query }) => {
      const ids = query.ids.split(',').map((s) => s.trim()).filter(Boolean);
      if (ids.length > 100) throw new TollgateError('invalid_request', 'ids: at most 100', { field: 'ids' });
      return { items: await tg.ledger.lookupAccounts(ids) };
    } }),
    route({ method: 'get', path: '/v1/ledger/accounts/:id/transfers', tag: 'ledger', summary: 'Transfers of any ledger account, newest first', roles: ['admin'], params: z.strictObject({ id: z.string().min(1).max(300) }), query: z.strictObject(Paging), handler: async ({ params, query }) => tg.ledger.getAccountTransfers(params.id, query) }),
  ];
}
