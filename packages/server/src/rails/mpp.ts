/**
 * @module rails/mpp
 * Tollgate's MPP edge: one seller (challenges, the evm charge and session intents, earnings in the
 * ledger) and the rule that says which calls it prices. A service accepts MPP when its metadata
 * says so — `metadata.mpp: true` (every intent the server can take) or `{ "intents": ["charge"] }` —
 * and the route has a fixed price (a usage-priced route cannot be charged before it has run).
 * Such a service takes either a grant (the normal proxy) or an MPP payment (no grant needed).
 *
 * Configured from `TOLLGATE_MPP_*` (see `mppConfigFromEnv`); off when no MPP secret key is set.
 */
import { z } from 'zod';
import { TollgateError, quote, type Service, type Tollgate } from '@tollgate/core';
import { RailEarnings } from '@tollgate/rails';
import { ChallengeBook, EvmCharge, EvmSessions, MppPayer, MppSeller, SqlChannelStore, SqlSingleUse, mppChainFromRpc, type MppEvmChain, type MppIntent, type MppLogger, type MppOffer } from '@tollgate/rails/mpp';

export interface MppEdge {
  seller: MppSeller;
  /** Intents the server can take (session only with an escrow). */
  intents: readonly MppIntent[];
  /** Whether the service takes MPP at all (some of its routes may still be usage-priced). */
  accepts(service: Service): boolean;
  /** The offer for a call, or undefined when the service or route does not take MPP. */
  offerFor(service: Service, method: string, path: string, edge: 'http' | 'mcp'): MppOffer | undefined;
}

export interface MppEdgeOptions {
  tg: Tollgate;
  chain: MppEvmChain;
  /** The deployed `ChannelEscrow` for sessions; without it only `charge` is offered. */
  escrow?: `0x${string}`;
  secretKey: string;
  realm: string;
  challengeTtlSeconds?: number;
  /** Ledger currency of the earnings (one token base unit = one micro-unit). */
  currency?: string;
  logger?: MppLogger;
  now?: () => Date;
}

export function createMppEdge(options: MppEdgeOptions): MppEdge {
  if (options.chain.token.decimals !== 6) throw new Error('mpp: the token must have 6 decimals (one base unit = one Tollgate micro-unit)');
  // Channel accounting in the database: every process serializes on a channel, and a restart loses nothing.
  const sessions = options.escrow ? new EvmSessions({ chain: options.chain, escrow: options.escrow, store: new SqlChannelStore(options.tg.db) }) : undefined;
  const seller = new MppSeller({
    book: new ChallengeBook({ realm: options.realm, secretKey: options.secretKey, challengeTtlSeconds: options.challengeTtlSeconds ?? 300, ...(options.now ? { now: options.now } : {}) }),
    chain: options.chain,
    charge: new EvmCharge(options.chain),
    ...(sessions ? { sessions } : {}),
    earnings: new RailEarnings({ tg: options.tg, currency: options.currency ?? 'USD' }),
    // In the database, so a credential is used once across every gateway process and restarts.
    singleUse: new SqlSingleUse(options.tg.db),
    ...(options.logger ? { logger: options.logger } : {}),
  });
  const intents: MppIntent[] = sessions ? ['charge', 'session'] : ['charge'];
  return {
    seller,
    intents,
    accepts: (service) => !service.disabled && acceptedIntents(service.metadata.mpp, intents).length > 0,
    offerFor(service, method, path, edge) {
      const accepted = acceptedIntents(service.metadata.mpp, intents);
      if (accepted.length === 0 || service.disabled) return undefined;
      const priced = quote(service, method, path);
      if (!priced || priced.pricing !== 'fixed' || priced.holdMicros <= 0n) return undefined;
      const tool = edge === 'mcp' ? path.slice(1) : `${method} ${path}`;
      return {
        resource: `${service.slug} ${tool}`, amountMicros: priced.holdMicros, intents: accepted,
        description: `${service.name}: ${tool}`.slice(0, 200),
        sellerId: service.sellerId, serviceId: service.id, service: service.slug, tool, edge,
      };
    },
  };
}

/** `metadata.mpp`: `true` = every intent the server takes; `{ intents: [...] }` = those of them. */
function acceptedIntents(setting: unknown, available: readonly MppIntent[]): MppIntent[] {
  if (setting === true) return [...available];
  if (setting && typeof setting === 'object' && Array.isArray((setting as { intents?: unknown }).intents)) {
    const wanted = (setting as { intents: unknown[] }).intents;
    return available.filter((intent) => wanted.includes(intent));
  }
  return [];
}

const hex = (bytes: number) => z.string().regex(new RegExp(`^0x[0-9a-fA-F]{${bytes * 2}}$`), `0x and ${bytes * 2} hex digits`);

/** `TOLLGATE_MPP_*`: everything the MPP edge needs to reach a chain and sign challenges. */
export const MppConfigSchema = z.strictObject({
  rpcUrl: z.url({ protocol: /^https?$/ }),
  chainId: z.coerce.number().int().min(1),
  /** Tollgate's account: receives the payments, pays the gas of settlements and closes. */
  privateKey: hex(32),
  tokenAddress: hex(20),
  tokenName: z.string().min(1).max(100).default('USD Coin'),
  tokenVersion: z.string().min(1).max(20).default('2'),
  escrowAddress: hex(20).optional(),
  /** HMAC key of challenge ids (≥ 32 characters); keep it stable across restarts and processes. */
  secretKey: z.string().min(32).max(500),
  realm: z.string().min(1).max(200).default('tollgate'),
  challengeTtlSeconds: z.coerce.number().int().min(10).max(3600).default(300),
  currency: z.string().regex(/^[A-Z]{3}$/).default('USD'),
});
export type MppConfig = z.output<typeof MppConfigSchema>;

const ENV_KEYS: Record<keyof MppConfig, string> = {
  rpcUrl: 'TOLLGATE_MPP_RPC_URL', chainId: 'TOLLGATE_MPP_CHAIN_ID', privateKey: 'TOLLGATE_MPP_PRIVATE_KEY',
  tokenAddress: 'TOLLGATE_MPP_TOKEN_ADDRESS', tokenName: 'TOLLGATE_MPP_TOKEN_NAME', tokenVersion: 'TOLLGATE_MPP_TOKEN_VERSION',
  escrowAddress: 'TOLLGATE_MPP_ESCROW_ADDRESS', secretKey: 'TOLLGATE_MPP_SECRET_KEY', realm: 'TOLLGATE_MPP_REALM',
  challengeTtlSeconds: 'TOLLGATE_MPP_CHALLENGE_TTL_SECONDS', currency: 'TOLLGATE_MPP_CURRENCY',
};

/**
 * The MPP configuration from the environment, or undefined when `TOLLGATE_MPP_SECRET_KEY` is unset
 * (MPP off). The RPC URL defaults to the shared `TOLLGATE_CHAIN_RPC_URL`.
 */
export function mppConfigFromEnv(env: NodeJS.ProcessEnv = process.env): MppConfig | undefined {
  if (!env.TOLLGATE_MPP_SECRET_KEY) return undefined;
  const raw: Record<string, unknown> = Object.fromEntries(Object.entries(ENV_KEYS).flatMap(([key, name]) => (env[name] ? [[key, env[name]]] : [])));
  raw.rpcUrl ??= env.TOLLGATE_CHAIN_RPC_URL;
  const parsed = MppConfigSchema.safeParse(raw);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `${ENV_KEYS[String(i.path[0]) as keyof MppConfig] ?? i.path.join('.')}: ${i.message}`);
    throw new TollgateError('invalid_request', `invalid MPP configuration:\n  ${lines.join('\n  ')}`, { field: 'mpp', issues: lines });
  }
  return parsed.data;
}

/** The edge for a configuration: JSON-RPC clients acting as the configured account. */
export function mppEdgeFromConfig(config: MppConfig, tg: Tollgate, logger?: MppLogger): MppEdge {
  return createMppEdge({
    tg,
    chain: mppChainFromRpc({
      rpcUrl: config.rpcUrl, chainId: config.chainId, privateKey: config.privateKey as `0x${string}`,
      token: { address: config.tokenAddress as `0x${string}`, name: config.tokenName, version: config.tokenVersion, decimals: 6 },
    }),
    ...(config.escrowAddress ? { escrow: config.escrowAddress as `0x${string}` } : {}),
    secretKey: config.secretKey,
    realm: config.realm,
    challengeTtlSeconds: config.challengeTtlSeconds,
    currency: config.currency,
    ...(logger ? { logger } : {}),
  });
}

/**
 * The buyer side: `TOLLGATE_MPP_PAYER_KEY` is the key Tollgate pays MPP upstreams with (in the token
 * of `TOLLGATE_MPP_TOKEN_*` on `TOLLGATE_MPP_CHAIN_ID`); services opt in with `metadata.payUpstream: ["mpp"]`.
 */
export function mppPayerFromEnv(env: NodeJS.ProcessEnv = process.env): MppPayer | undefined {
  if (!env.TOLLGATE_MPP_PAYER_KEY) return undefined;
  const parsed = MppPayerEnvSchema.safeParse({
    privateKey: env.TOLLGATE_MPP_PAYER_KEY, chainId: env.TOLLGATE_MPP_CHAIN_ID, tokenAddress: env.TOLLGATE_MPP_TOKEN_ADDRESS,
    tokenName: env.TOLLGATE_MPP_TOKEN_NAME || undefined, tokenVersion: env.TOLLGATE_MPP_TOKEN_VERSION || undefined,
  });
  if (!parsed.success) {
    const names: Record<string, string> = { privateKey: 'TOLLGATE_MPP_PAYER_KEY', chainId: 'TOLLGATE_MPP_CHAIN_ID', tokenAddress: 'TOLLGATE_MPP_TOKEN_ADDRESS', tokenName: 'TOLLGATE_MPP_TOKEN_NAME', tokenVersion: 'TOLLGATE_MPP_TOKEN_VERSION' };
    const lines = parsed.error.issues.map((i) => `${names[String(i.path[0])] ?? i.path.join('.')}: ${i.message}`);
    throw new TollgateError('invalid_request', `invalid MPP payer configuration:\n  ${lines.join('\n  ')}`, { field: 'mpp', issues: lines });
  }
  const c = parsed.data;
  return new MppPayer({ privateKey: c.privateKey as `0x${string}`, tokens: [{ chainId: c.chainId, address: c.tokenAddress as `0x${string}`, name: c.tokenName, version: c.tokenVersion }] });
}

const MppPayerEnvSchema = MppConfigSchema.pick({ privateKey: true, chainId: true, tokenAddress: true, tokenName: true, tokenVersion: true });
