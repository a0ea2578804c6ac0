/**
 * @module rails/x402
 * Wires the x402 rail from the configuration: the seller (verify and settle through the configured
 * facilitator; unknown outcomes reconciled from the chain when `chainRpcUrl` is set) and its HTTP
 * proxy path. Off when `x402FacilitatorUrl` is unset.
 */
import { createPublicClient, http, type Hex } from 'viem';
import type { Tollgate } from '@tollgate/core';
import { FacilitatorClient, X402Payer, X402Seller, type ReceiptReader, type UpstreamPayer } from '@tollgate/rails';
import type { Config } from '../config/index.ts';
import type { Logger } from '../logger.ts';
import { UpstreamPayments } from './upstream-payments.ts';
import { X402Proxy } from './x402-proxy.ts';

export interface X402Edge {
  seller: X402Seller;
  proxy: X402Proxy;
}

export function createX402Edge(options: { tg: Tollgate; config: Config; logger: Logger; fetch?: typeof fetch }): X402Edge | undefined {
  const { config } = options;
  if (!config.x402FacilitatorUrl) return undefined;
  const facilitator = new FacilitatorClient({ url: config.x402FacilitatorUrl, timeoutMs: config.x402FacilitatorTimeoutMs });
  const onError = (error: unknown) => options.logger.error({ err: error instanceof Error ? error.message : String(error) }, 'crediting x402 earnings failed; retried at the next start');
  const seller = new X402Seller({ tg: options.tg, facilitator, onError, ...(config.chainRpcUrl ? { receipts: receiptReader(config.chainRpcUrl) } : {}) });
  // Settlements a previous process recorded but did not credit (it stopped in between).
  void seller.recordMissingEarnings().then((n) => { if (n > 0) options.logger.warn({ recorded: n }, 'credited x402 earnings missing after a restart'); }, onError);
  // Settlements whose outcome was unknown when the previous process stopped.
  if (config.chainRpcUrl) void seller.reconcileUnknown().then((c) => { if (c.settled + c.failed > 0) options.logger.warn(c, 'reconciled x402 settlements of unknown outcome'); }, onError);
  const proxy = new X402Proxy({ seller, limits: config, logger: options.logger, ...(config.publicUrl ? { publicUrl: config.publicUrl } : {}), ...(options.fetch ? { fetch: options.fetch } : {}) });
  return { seller, proxy };
}

/** A settlement's fate from its receipt: none yet = still pending. */
export function receiptReader(rpcUrl: string): ReceiptReader {
  const client = createPublicClient({ transport: http(rpcUrl, { timeout: 10_000 }) });
  return async (txHash) => {
    const receipt = await client.getTransactionReceipt({ hash: txHash as Hex }).catch(() => undefined);
    if (!receipt) return 'pending';
    return receipt.status === 'success' ? 'success' : 'reverted';
  };
}

/** Buyer side: the payers Tollgate pays 402-answering upstreams with (x402 when `x402WalletKey` is set, then `extra`, e.g. MPP's). */
export function createUpstreamPayments(config: Config, extra: readonly UpstreamPayer[] = []): UpstreamPayments | undefined {
  const payers: UpstreamPayer[] = [...(config.x402WalletKey ? [new X402Payer({ privateKey: config.x402WalletKey as Hex })] : []), ...extra];
  return payers.length > 0 ? new UpstreamPayments(payers) : undefined;
}
