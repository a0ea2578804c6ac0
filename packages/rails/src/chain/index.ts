/**
 * @module chain
 * The local test chain: anvil + a real EIP-3009 token + funded accounts + viem clients, and the
 * solc-js compiler with its on-disk cache for other small contracts (an escrow, a failing token).
 * For tests and benchmarks only (`@tollgate/rails/testing`); production talks to a real RPC.
 */
export { startLocalChain, compileTestUsdc, type LocalChain, type LocalChainOptions, type LocalToken, type LocalWalletClient, type TestAccount } from './local-chain.ts';
export { compileSolidity, type CompiledContract, type CompileOptions } from './solidity.ts';
export { startAnvil, anvilBinaryPath, ANVIL_START_TIMEOUT_MS, type AnvilOptions, type AnvilProcess } from './anvil.ts';
export { startReferenceSeller, type ReferenceSeller, type ReferenceSellerOptions } from './reference-seller.ts';
