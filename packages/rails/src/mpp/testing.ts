/**
 * @module mpp/testing
 * An MPP seller on the local test chain, for the rail's tests and the server's: the chain's first
 * account is Tollgate's receiving (and gas-paying) account, an escrow is deployed for sessions, and
 * settlements are recorded in the given Tollgate's ledger.
 */
import type { Tollgate } from '@tollgate/core';
import type { LocalChain, TestAccount } from '../chain/local-chain.ts';
import { ChallengeBook } from './challenges.ts';
import { RailEarnings } from '../earnings.ts';
import { deployEscrow } from './escrow/compile.ts';
import type { MppEvmChain } from './evm-chain.ts';
import { EvmCharge } from './evm-charge.ts';
import { EvmSessions } from './evm-session.ts';
import { MppSeller, type MppLogger } from './seller.ts';
import { SqlSingleUse } from './single-use.ts';
import { SqlChannelStore } from './channel-store.ts';
import type { MppOffer } from './outcome.ts';

export const TEST_REALM = 'tollgate.test';
export const TEST_SECRET = 'test-secret-key-for-mpp-challenges-0123456789';

/** The rail's view of a local chain, paying to and settling from `server`. */
export function mppChainOf(chain: LocalChain, server: TestAccount): MppEvmChain {
  return { chainId: chain.chainId, publicClient: chain.publicClient, walletClient: chain.walletClient(server), token: chain.token, receiptTimeoutMs: 10_000 };
}

export interface MppRig {
  seller: MppSeller;
  chain: MppEvmChain;
  escrow: `0x${string}`;
  server: TestAccount;
  /** What the logger was told (warnings and errors), for assertions. */
  logged: { level: 'warn' | 'error'; message: string; details: Record<string, unknown> }[];
}

export async function mppRig(chain: LocalChain, tg: Tollgate | undefined, options: { now?: () => Date; challengeTtlSeconds?: number; server?: TestAccount } = {}): Promise<MppRig> {
  const server = options.server ?? chain.accounts[0]!;
  const mppChain = mppChainOf(chain, server);
  const escrow = await deployEscrow(mppChain);
  const logged: MppRig['logged'] = [];
  const logger: MppLogger = {
    warn: (details, message) => logged.push({ level: 'warn', message, details }),
    error: (details, message) => logged.push({ level: 'error', message, details }),
  };
  const seller = new MppSeller({
    book: new ChallengeBook({ realm: TEST_REALM, secretKey: TEST_SECRET, challengeTtlSeconds: options.challengeTtlSeconds ?? 300, ...(options.now ? { now: options.now } : {}) }),
    chain: mppChain,
    charge: new EvmCharge(mppChain),
    sessions: new EvmSessions({ chain: mppChain, escrow, ...(tg ? { store: new SqlChannelStore(tg.db) } : {}) }),
    ...(tg ? { earnings: new RailEarnings({ tg, currency: 'USD' }), singleUse: new SqlSingleUse(tg.db) } : {}),
    logger,
  });
  return { seller, chain: mppChain, escrow, server, logged };
}

/** An offer for a test resource. */
export function testOffer(overrides: Partial<MppOffer> = {}): MppOffer {
  return {
    resource: 'search GET /search', amountMicros: 10_000n, intents: ['charge', 'session'], description: 'one search',
    sellerId: 'sel_demo', serviceId: 'svc_search', service: 'search', tool: 'GET /search', edge: 'http', ...overrides,
  };
}

export { compileEscrow, deployEscrow } from './escrow/compile.ts';
