/**
 * @module mpp/escrow/compile
 * Compiles `ChannelEscrow.sol` with solc-js through the chain harness's cached compiler and deploys
 * it. Only tests and local chains deploy the escrow (solc is a dev dependency); a production
 * gateway is configured with the address of one already deployed.
 */
import { readFileSync } from 'node:fs';
import type { Address } from 'viem';
import { compileSolidity, type CompiledContract } from '../../chain/solidity.ts';
import type { MppEvmChain } from '../evm-chain.ts';

const SOURCE = 'ChannelEscrow.sol';

export function compileEscrow(): CompiledContract {
  return compileSolidity({ sources: { [SOURCE]: readFileSync(new URL(`./${SOURCE}`, import.meta.url), 'utf8') }, contractName: 'ChannelEscrow' });
}

/** Deploys a fresh escrow from the chain's server account; returns its address. */
export async function deployEscrow(chain: MppEvmChain, options: { closeGracePeriodSeconds?: number } = {}): Promise<Address> {
  const escrow = compileEscrow();
  const hash = await chain.walletClient.deployContract({
    abi: escrow.abi, bytecode: escrow.bytecode, args: [BigInt(options.closeGracePeriodSeconds ?? 900)], chain: chain.walletClient.chain ?? null,
  });
  const receipt = await chain.publicClient.waitForTransactionReceipt({ hash });
  if (receipt.status !== 'success' || !receipt.contractAddress) throw new Error('the escrow deployment reverted');
  return receipt.contractAddress;
}
