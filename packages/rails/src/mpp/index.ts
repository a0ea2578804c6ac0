/**
 * @module mpp
 * The Machine Payments Protocol rail (`@tollgate/rails/mpp`): the `Payment` HTTP auth scheme and its
 * MCP transport, the evm `charge` intent (EIP-3009) and the evm `session` intent (Tollgate's escrow).
 */
import { railAccountId } from '../earnings.ts';

export { ChallengeBook, SECRET_KEY_LENGTH_MIN, type ChallengeBookOptions, type ChallengeInput, type MppChallenge } from './challenges.ts';
export { credentialFromHeader, credentialFromMeta, isPaymentAuthorization, CREDENTIAL_HEADER_LENGTH_MAX, type MppCredential } from './credentials.ts';
/** The ledger account MPP settlements are credited from (`external:rail:mpp`). */
export const MPP_RAIL_ACCOUNT = railAccountId('mpp');
export { EIP3009_ABI, RECEIPT_TIMEOUT_MS, mppChainFromRpc, type Eip3009Token, type MppEvmChain } from './evm-chain.ts';
export { EvmCharge, chargeRequest, type ChargeSettlement, type VerifiedCharge } from './evm-charge.ts';
export { EvmSessions, type EvmSessionsOptions, type SessionCharge, type SessionSettlement } from './evm-session.ts';
export { MemoryChannelStore, SqlChannelStore, type ChannelState, type ChannelStore } from './channel-store.ts';
export { ESCROW_ABI, VOUCHER_TYPES, voucherDomain, channelIdOf } from './escrow/abi.ts';
export { challengeHeaderValues, httpResponse, payOverHttp, paysWithMpp, PROBLEM_CONTENT_TYPE } from './http.ts';
export { MppProblem, MPP_PROBLEM_BASE, type MppProblemDetails, type MppProblemKind } from './problems.ts';
export { MppSeller, type MppSellerOptions, type PayOptions } from './seller.ts';
export { MppRail, type MppAuthorizeRequest, type MppHold, type MppLogger, type MppRailOptions, type MppSettlement } from './mpp-rail.ts';
export { evmSession, evmSessionMethod, type EvmSessionClientOptions } from './session-client.ts';
export { MemorySingleUse, SqlSingleUse, SINGLE_USE_ENTRIES_MAX, type SingleUseStore, type StoredAnswer } from './single-use.ts';
export type { Delivery, MppIntent, MppOffer, MppOutcome, MppReceipt } from './outcome.ts';
export { MPP_META, MPP_JSONRPC_CODES, carriesMppCredential, mcpResult, mppCapability, payOverMcp, type ToolResult } from './mcp.ts';
export { MppPayer, type PayableToken } from './upstream-payer.ts';
