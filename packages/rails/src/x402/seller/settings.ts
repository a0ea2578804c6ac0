/**
 * @module x402/seller/settings
 * A service's x402 setting: where payments go and in what token. Stored in the service's
 * `metadata.x402` (the registry keeps metadata as JSON), validated here when a call reads it, so a
 * bad setting is a clear refusal naming the field, never a crash.
 */
import { getAddress, isAddress } from 'viem';
import { z } from 'zod';
import { TollgateError } from '@tollgate/core';

const Address = z.string().refine((v) => isAddress(v), 'an EVM address (0x + 40 hex digits)').transform((v) => getAddress(v));

export const X402SettingsSchema = z.strictObject({
  /** Who is paid (the seller's address). */
  payTo: Address,
  /** CAIP-2, e.g. `eip155:8453` (Base), `eip155:31337` (the local chain). */
  network: z.string().regex(/^eip155:\d{1,12}$/, 'a CAIP-2 EVM network such as eip155:8453'),
  /** The EIP-3009 token contract (USDC). */
  asset: Address,
  /** The token's EIP-712 domain name and version (`USD Coin` / `2` for USDC on Base). */
  name: z.string().min(1).max(100),
  version: z.string().min(1).max(20),
  /** Token decimals; 6 for USDC (one base unit = one micro-unit). */
  decimals: z.number().int().min(6).max(18).default(6),
  maxTimeoutSeconds: z.number().int().min(10).max(3600).default(300),
  /** Whether callers with a Tollgate grant may still pay from their grant (default true). */
  grants: z.boolean().default(true),
});
export type X402Settings = z.output<typeof X402SettingsSchema>;
export type X402SettingsInput = z.input<typeof X402SettingsSchema>;

/** Parsed settings by the metadata object they came from (the registry caches resolved services). */
const parsedSettings = new WeakMap<object, X402Settings>();

/** The service's x402 setting, or undefined when it does not take x402. */
export function x402SettingsOf(service: { slug: string; metadata: Record<string, unknown> }): X402Settings | undefined {
  const raw = service.metadata?.x402;
  if (raw === undefined || raw === null) return undefined;
  const cached = typeof raw === 'object' ? parsedSettings.get(raw) : undefined;
  if (cached) return cached;
  const parsed = X402SettingsSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new TollgateError('conflict', `service ${service.slug} has an invalid x402 setting: metadata.x402.${issue?.path.join('.')}: ${issue?.message}`, { service: service.slug, field: `metadata.x402.${issue?.path.join('.')}` });
  }
  if (typeof raw === 'object') parsedSettings.set(raw, parsed.data);
  return parsed.data;
}

/** Micro-units → the token's base units (6 decimals: the same number). */
export function atomicAmount(micros: bigint, decimals: number): bigint {
  return micros * 10n ** BigInt(decimals - 6);
}
