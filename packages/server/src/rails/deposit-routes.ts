/**
 * @module rails/deposit-routes
 * `POST /v1/deposits`: credit a wallet from an on-chain USDC transfer to the deposit address,
 * verified from the transaction's `Transfer` log, each transaction hash at most once.
 * `GET /v1/deposits/address`: where to send funds. On when `depositAddress`, `depositAsset` and
 * `chainRpcUrl` are configured.
 */
import { createPublicClient, http, type Address } from 'viem';
import { z } from 'zod';
import { formatMicros, type Tollgate } from '@tollgate/core';
import { ChainDeposits } from '@tollgate/rails';
import { route, type RouteDef } from '../admin/route.ts';
import type { Config } from '../config/index.ts';

const DepositBody = z.strictObject({ ownerId: z.string().min(1).max(200), txHash: z.string().min(1).max(100) });

export function createDeposits(tg: Tollgate, config: Config): ChainDeposits | undefined {
  if (!config.depositAddress || !config.depositAsset || !config.chainRpcUrl) return undefined;
  const publicClient = createPublicClient({ transport: http(config.chainRpcUrl, { timeout: 10_000 }) });
  return new ChainDeposits({ tg, publicClient, depositAddress: config.depositAddress as Address, asset: config.depositAsset as Address });
}

export function depositRoutes(deposits: ChainDeposits, asset: string): RouteDef[] {
  return [
    route({ method: 'post', path: '/v1/deposits', tag: 'wallets', summary: 'Credit a wallet from an on-chain USDC transfer to the deposit address (each transaction once)', roles: ['admin'], body: DepositBody, status: 201,
      response: z.object({ transferId: z.string(), applied: z.boolean(), amount: z.string(), from: z.string(), txHash: z.string(), balance: z.object({ ownerId: z.string(), availableMicros: z.string() }) }),
      handler: async ({ body }) => {
        const d = await deposits.credit(body);
        return { transferId: d.transferId, applied: d.applied, amount: formatMicros(d.amountMicros), from: d.from, txHash: d.txHash, balance: { ownerId: d.balance.ownerId, availableMicros: d.balance.availableMicros.toString() } };
      } }),
    route({ method: 'get', path: '/v1/deposits/address', tag: 'wallets', summary: 'Where to send USDC to fund a wallet', roles: ['admin', 'buyer'],
      response: z.object({ depositAddress: z.string(), asset: z.string() }), handler: async () => ({ depositAddress: deposits.depositAddress, asset }) }),
  ];
}
