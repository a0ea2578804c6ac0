/**
 * @module x402/exact-evm
 * The `exact` scheme on EVM with EIP-3009 (`specs/schemes/exact/scheme_exact_evm.md`): parsing the
 * payload, the EIP-712 typed data, and the checks that need no chain — the offered requirement, the
 * payee, the exact amount, the validity window and the ECDSA signature (pure viem, no RPC). The
 * facilitator adds the on-chain checks (code, balance, nonce state, simulation) on top.
 *
 * Invalid reasons use the x402 SDK's vocabulary so clients can tell them apart.
 */
import { getAddress, isAddress, isHex, recoverTypedDataAddress, type Address, type Hex } from 'viem';
import type { PaymentRequirements } from './wire.ts';

export interface Eip3009Authorization {
  from: Address;
  to: Address;
  value: bigint;
  validAfter: bigint;
  validBefore: bigint;
  nonce: Hex;
}

export interface ExactEvmPayload {
  authorization: Eip3009Authorization;
  signature: Hex;
}

/** The SDK's margin: an authorization must stay valid this long after it is checked. */
export const VALID_BEFORE_MARGIN_SECONDS = 6n;

export const TRANSFER_WITH_AUTHORIZATION_TYPES = {
  TransferWithAuthorization: [
    { name: 'from', type: 'address' },
    { name: 'to', type: 'address' },
    { name: 'value', type: 'uint256' },
    { name: 'validAfter', type: 'uint256' },
    { name: 'validBefore', type: 'uint256' },
    { name: 'nonce', type: 'bytes32' },
  ],
} as const;

export type ExactInvalidReason =
  | 'invalid_payload'
  | 'invalid_scheme'
  | 'invalid_network'
  | 'invalid_payment_requirements'
  | 'invalid_exact_evm_missing_eip712_domain'
  | 'invalid_exact_evm_recipient_mismatch'
  | 'invalid_exact_evm_payload_authorization_value_mismatch'
  | 'invalid_exact_evm_payload_authorization_valid_before'
  | 'invalid_exact_evm_payload_authorization_valid_after'
  | 'invalid_exact_evm_signature';

export type ExactCheck = { ok: true; payload: ExactEvmPayload; payer: Address } | { ok: false; reason: ExactInvalidReason; message: string; payer?: Address };

const UINT = /^\d{1,78}$/;

/** Reads `{ authorization, signature }`; undefined when a field is missing or malformed. */
export function parseExactEvmPayload(payload: Record<string, unknown>): ExactEvmPayload | undefined {
  const a = payload.authorization as Record<string, unknown> | undefined;
  const signature = payload.signature;
  if (!a || typeof a !== 'object' || typeof signature !== 'string' || !isHex(signature)) return undefined;
  const { from, to, value, validAfter, validBefore, nonce } = a;
  if (typeof from !== 'string' || !isAddress(from) || typeof to !== 'string' || !isAddress(to)) return undefined;
  if (typeof nonce !== 'string' || !/^0x[0-9a-fA-F]{64}$/.test(nonce)) return undefined;
  for (const n of [value, validAfter, validBefore]) if (typeof n !== 'string' || !UINT.test(n)) return undefined;
  return {
    authorization: { from: getAddress(from), to: getAddress(to), value: BigInt(value as string), validAfter: BigInt(validAfter as string), validBefore: BigInt(validBefore as string), nonce: nonce as Hex },
    signature: signature as Hex,
  };
}

/** `eip155:8453` → 8453; undefined for other namespaces. */
export function evmChainId(network: string): number | undefined {
  const match = /^eip155:(\d{1,12})$/.exec(network);
  return match ? Number(match[1]) : undefined;
}

/** The EIP-712 domain the payer signed: the token's name/version from `extra`, the chain, the asset. */
export function eip712Domain(requirements: PaymentRequirements): { name: string; version: string; chainId: number; verifyingContract: Address } | undefined {
  const name = requirements.extra?.name;
  const version = requirements.extra?.version;
  const chainId = evmChainId(requirements.network);
  if (typeof name !== 'string' || typeof version !== 'string' || chainId === undefined || !isAddress(requirements.asset)) return undefined;
  return { name, version, chainId, verifyingContract: getAddress(requirements.asset) };
}

/**
 * Every check that needs no chain, in the SDK's order. `nowSeconds` is the verifier's clock; the
 * signature is checked last because it is the only expensive step (an ECDSA recovery, ~3 ms of CPU
 * on the event loop). `signature: false` leaves it to whoever checks it next (a facilitator's
 * verify); the 65-byte shape is still checked.
 */
export async function checkExactEvm(
  scheme: string,
  network: string,
  rawPayload: Record<string, unknown>,
  requirements: PaymentRequirements,
  nowSeconds: bigint,
  options: { signature?: boolean } = {},
): Promise<ExactCheck> {
  if (scheme !== 'exact' || requirements.scheme !== 'exact') return { ok: false, reason: 'invalid_scheme', message: 'only the exact scheme is accepted' };
  if (network !== requirements.network) return { ok: false, reason: 'invalid_network', message: `network ${network} is not ${requirements.network}` };
  const payload = parseExactEvmPayload(rawPayload);
  if (!payload) return { ok: false, reason: 'invalid_payload', message: 'payload.authorization or payload.signature is missing or malformed' };
  const { authorization: a } = payload;
  const payer = a.from;
  const domain = eip712Domain(requirements);
  if (!domain) return { ok: false, reason: 'invalid_exact_evm_missing_eip712_domain', message: 'extra.name and extra.version are required', payer };
  if (!isAddress(requirements.payTo) || a.to !== getAddress(requirements.payTo)) return { ok: false, reason: 'invalid_exact_evm_recipient_mismatch', message: `authorization.to is not ${requirements.payTo}`, payer };
  if (!UINT.test(requirements.amount) || a.value !== BigInt(requirements.amount)) {
    return { ok: false, reason: 'invalid_exact_evm_payload_authorization_value_mismatch', message: `authorization.value must be exactly ${requirements.amount}`, payer };
  }
  if (a.validBefore < nowSeconds + VALID_BEFORE_MARGIN_SECONDS) return { ok: false, reason: 'invalid_exact_evm_payload_authorization_valid_before', message: 'the authorization has expired (or expires within 6 s)', payer };
  if (a.validAfter > nowSeconds) return { ok: false, reason: 'invalid_exact_evm_payload_authorization_valid_after', message: 'the authorization is not valid yet', payer };
  if (!/^0x[0-9a-fA-F]{130}$/.test(payload.signature)) return { ok: false, reason: 'invalid_exact_evm_signature', message: 'the signature must be 65 bytes (ECDSA); contract wallets are not supported', payer };
  return options.signature === false ? { ok: true, payload, payer } : checkExactEvmSignature(payload, requirements);
}

/** Whether `authorization.from` signed the authorization, over the token's EIP-712 domain. */
export async function checkExactEvmSignature(payload: ExactEvmPayload, requirements: PaymentRequirements): Promise<ExactCheck> {
  const { authorization: a } = payload;
  const payer = a.from;
  const domain = eip712Domain(requirements);
  if (!domain) return { ok: false, reason: 'invalid_exact_evm_missing_eip712_domain', message: 'extra.name and extra.version are required', payer };
  let signer: Address;
  try {
    signer = await recoverTypedDataAddress({ domain, types: TRANSFER_WITH_AUTHORIZATION_TYPES, primaryType: 'TransferWithAuthorization', message: a, signature: payload.signature });
  } catch {
    return { ok: false, reason: 'invalid_exact_evm_signature', message: 'the signature does not recover', payer };
  }
  if (signer !== payer) return { ok: false, reason: 'invalid_exact_evm_signature', message: 'the signature was not made by authorization.from', payer };
  return { ok: true, payload, payer };
}
