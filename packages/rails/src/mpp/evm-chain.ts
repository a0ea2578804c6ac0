/**
 * @module mpp/evm-chain
 * What the MPP rail needs from an EVM chain: a reader, a funded server account that submits
 * settlements (and is the payee the challenges name), and the EIP-3009 token it is paid in. The
 * local test chain (`../chain`) and a real RPC endpoint both fit; the rail never sees a payer's key.
 */
import { createPublicClient, createWalletClient, defineChain, getAddress, http, parseAbi, type Account, type Address, type Chain, type Hex, type PublicClient, type Transport, type WalletClient } from 'viem';
import { privateKeyToAccount } from 'viem/accounts';

export interface Eip3009Token {
  address: Address;
  /** The token's EIP-712 domain name and version (`USD Coin` / `2` for USDC on Base). */
  name: string;
  version: string;
  /** 6 for USDC: one base unit is one Tollgate micro-unit. */
  decimals: number;
}

export interface MppEvmChain {
  chainId: number;
  publicClient: PublicClient;
  /** Submits settlements and closes channels; its address receives the payments. */
  walletClient: WalletClient<Transport, Chain | undefined, Account>;
  token: Eip3009Token;
  /** How long a submitted settlement may take to be mined before its outcome counts as unknown. */
  receiptTimeoutMs?: number;
}

/** The EIP-3009 and ERC-20 functions and events the rail calls or reads. */
export const EIP3009_ABI = parseAbi([
  'function balanceOf(address account) view returns (uint256)',
  'function authorizationState(address authorizer, bytes32 nonce) view returns (bool)',
  'function transferWithAuthorization(address from, address to, uint256 value, uint256 validAfter, uint256 validBefore, bytes32 nonce, uint8 v, bytes32 r, bytes32 s)',
  'function approve(address spender, uint256 value) returns (bool)',
  'event Transfer(address indexed from, address indexed to, uint256 value)',
]);

/** Default bound on waiting for a settlement's receipt. */
export const RECEIPT_TIMEOUT_MS = 60_000;

/** The rail's view of a chain reached over JSON-RPC, acting as the account of `privateKey`. */
export function mppChainFromRpc(options: { rpcUrl: string; chainId: number; privateKey: Hex; token: Eip3009Token; receiptTimeoutMs?: number }): MppEvmChain {
  const chain = defineChain({
    id: options.chainId, name: `eip155:${options.chainId}`, nativeCurrency: { name: 'Ether', symbol: 'ETH', decimals: 18 },
    rpcUrls: { default: { http: [options.rpcUrl] } },
  });
  const transport = http(options.rpcUrl);
  return {
    chainId: options.chainId,
    publicClient: createPublicClient({ chain, transport }),
    walletClient: createWalletClient({ chain, transport, account: privateKeyToAccount(options.privateKey) }),
    token: { ...options.token, address: getAddress(options.token.address) },
    ...(options.receiptTimeoutMs ? { receiptTimeoutMs: options.receiptTimeoutMs } : {}),
  };
}
