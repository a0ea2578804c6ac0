/**
 * @module chain/reference-seller
 * The reference x402 seller: a Hono app behind `@x402/hono`'s `paymentMiddleware`, verifying and
 * settling through a facilitator URL, on the local chain's token. Tests use it as an x402 upstream
 * Tollgate pays (buyer side); `bench:rails` measures Tollgate's seller side against it.
 */
import { HTTPFacilitatorClient, x402ResourceServer } from '@x402/core/server';
import { ExactEvmScheme } from '@x402/evm/exact/server';
import { paymentMiddleware } from '@x402/hono';
import { Hono } from 'hono';
import type { Address } from 'viem';
import { serveFetch, type FacilitatorServer } from '../x402/facilitator/http.ts';
import type { LocalChain } from './local-chain.ts';

export interface ReferenceSellerOptions {
  chain: LocalChain;
  facilitatorUrl: string;
  payTo: Address;
  /** Base units (micro-USDC) per call to `GET /paid`. */
  amount: bigint;
}

export interface ReferenceSeller extends FacilitatorServer {
  /** How many paid requests reached the handler. */
  served(): number;
}

export async function startReferenceSeller(options: ReferenceSellerOptions): Promise<ReferenceSeller> {
  const { chain } = options;
  const server = new x402ResourceServer(new HTTPFacilitatorClient({ url: options.facilitatorUrl })).register(chain.network, new ExactEvmScheme());
  let served = 0;
  const app = new Hono();
  app.use(paymentMiddleware({
    'GET /paid': {
      accepts: {
        scheme: 'exact', network: chain.network, payTo: options.payTo,
        price: { amount: options.amount.toString(), asset: chain.token.address, extra: { name: chain.token.name, version: chain.token.version } },
      },
      description: 'reference x402 seller',
    },
  }, server));
  app.get('/paid', (c) => {
    served += 1;
    return c.json({ paid: true, n: served });
  });
  const listening = await serveFetch(async (request) => app.fetch(request));
  return { ...listening, served: () => served };
}
