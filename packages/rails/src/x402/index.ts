/**
 * @module x402
 * The x402 rail: wire format, the `exact` EVM scheme's checks, a local facilitator, the seller side
 * (a service that requires x402) and the buyer side (paying an upstream that asks for x402).
 */

export { X402_HEADERS, X402_MCP_META, encodeHeader, decodeHeader, parsePaymentPayload, paymentFromHeaders, WireError, type AnyPaymentPayload } from './wire.ts';
export { checkExactEvm, checkExactEvmSignature, eip712Domain, evmChainId, parseExactEvmPayload, TRANSFER_WITH_AUTHORIZATION_TYPES, type Eip3009Authorization, type ExactEvmPayload } from './exact-evm.ts';
export { EIP3009_ABI } from './eip3009-abi.ts';
export { FacilitatorClient, LocalFacilitator, facilitatorHandler, serveFacilitator, serveFetch, type FacilitatorClientOptions, type FacilitatorServer, type LocalFacilitatorOptions } from './facilitator/index.ts';
export * from './seller/index.ts';
export * from './buyer/index.ts';
