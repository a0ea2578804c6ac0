/**
 * @module mpp/escrow/abi
 * The parts of `ChannelEscrow.sol` the session server and client call, and its voucher EIP-712
 * types (draft-evm-session §"Voucher Signing Format": domain "EVM Payment Channel", version "1").
 */
import { encodeAbiParameters, keccak256, parseAbi, type Address, type Hex } from 'viem';

export const ESCROW_ABI = parseAbi([
  'function open(address payee, address token, uint128 deposit, bytes32 salt, address authorizedSigner) returns (bytes32)',
  'function topUp(bytes32 channelId, uint128 additionalDeposit)',
  'function settle(bytes32 channelId, uint128 cumulativeAmount, bytes signature)',
  'function close(bytes32 channelId, uint128 cumulativeAmount, bytes signature)',
  'function requestClose(bytes32 channelId)',
  'function withdraw(bytes32 channelId)',
  'function closeGracePeriod() view returns (uint64)',
  'function channels(bytes32 channelId) view returns (address payer, address payee, address token, address authorizedSigner, uint128 deposit, uint128 settled, uint64 closeRequestedAt, bool finalized)',
  'event ChannelOpened(bytes32 indexed channelId, address indexed payer, address indexed payee, address token, address authorizedSigner, bytes32 salt, uint128 deposit)',
  'event Closed(bytes32 indexed channelId, uint128 settled, uint128 refunded)',
  'error ChannelAlreadyExists()',
  'error ChannelNotFound()',
  'error ChannelFinalized()',
  'error NotPayee()',
  'error NotPayer()',
  'error AmountNotIncreasing()',
  'error AmountExceedsDeposit()',
  'error InvalidSignature()',
  'error CloseNotReady()',
  'error ZeroDeposit()',
  'error DepositOverflow()',
  'error TokenTransferFailed()',
]);

export const VOUCHER_TYPES = {
  Voucher: [
    { name: 'channelId', type: 'bytes32' },
    { name: 'cumulativeAmount', type: 'uint128' },
  ],
} as const;

export function voucherDomain(chainId: number, escrow: Address) {
  return { name: 'EVM Payment Channel', version: '1', chainId, verifyingContract: escrow } as const;
}

/** The escrow's `computeChannelId`: every input that makes the channel, bound to contract and chain. */
export function channelIdOf(input: { payer: Address; payee: Address; token: Address; salt: Hex; authorizedSigner: Address; escrow: Address; chainId: number }): Hex {
  return keccak256(encodeAbiParameters(
    [{ type: 'address' }, { type: 'address' }, { type: 'address' }, { type: 'bytes32' }, { type: 'address' }, { type: 'address' }, { type: 'uint256' }],
    [input.payer, input.payee, input.token, input.salt, input.authorizedSigner, input.escrow, BigInt(input.chainId)],
  ));
}

/** The uint128 bound the spec asks servers to check on every cumulative amount. */
export const UINT128_MAX = (1n << 128n) - 1n;
