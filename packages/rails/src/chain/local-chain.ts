/**
 * @module chain/local-chain
 * A throwaway EVM for tests and benchmarks: anvil, a REAL EIP-3009 token (`contracts/TestUsdc.sol`,
 * compiled with solc-js) deployed on it, funded accounts with fresh random keys, and viem clients.
 * One chain per test file keeps suites fast; `stop()` (or the process exiting) ends it.
 */
import { readFileSync } from 'node:fs';
import {
  createPublicClient,
  createTestClient,
  createWalletClient,
  defineChain,
  getAddress,
  http,
  parseEther,
  type Abi,
  type Account,
  type Address,
  type Chain,
  type Hex,
  type PrivateKeyAccount,
  type PublicClient,
  type TestClient,
  type Transport,
  type WalletClient,
} from 'viem';
import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts';
import { startAnvil, type AnvilOptions } from './anvil.ts';
import { compileSolidity, type CompiledContract } from './solidity.ts';

/** Receipts on an automining chain exist at once; poll fast instead of viem's 4 s default. */
const POLLING_INTERVAL_MS = 25;

export interface LocalChainOptions extends AnvilOptions {
  /** Funded accounts besides the deployer (default 4). */
  accounts?: number;
  /** The token's EIP-712 domain; defaults to Base mainnet USDC's (`USD Coin`, `2`). */
  tokenName?: string;
  tokenVersion?: string;
}

/** A funded account whose key the test holds (a payer, a payee, a facilitator). */
export interface TestAccount {
  address: Address;
  privateKey: Hex;
  account: PrivateKeyAccount;
}

export interface LocalToken {
  address: Address;
  name: string;
  version: string;
  decimals: 6;
  abi: Abi;
}

export type LocalWalletClient = WalletClient<Transport, Chain, Account>;

export interface LocalChain {
  rpcUrl: string;
  chain: Chain;
  chainId: number;
  /** CAIP-2 id, the form x402 v2 uses: `eip155:31337`. */
  network: `eip155:${number}`;
  publicClient: PublicClient<Transport, Chain>;
  /** anvil's cheat codes: set balances, move time (`increaseTime` + `mine`), impersonate. */
  testClient: TestClient<'anvil', Transport, Chain>;
  /** Deployed the token and is its only minter. */
  deployer: TestAccount;
  accounts: TestAccount[];
  token: LocalToken;
  walletClient(account: TestAccount): LocalWalletClient;
  /** A new account with 100 ETH for gas and no tokens. */
  newAccount(): Promise<TestAccount>;
  /** Mints `amount` base units (micro-USDC) to `to` and waits for the receipt. */
  mint(to: Address, amount: bigint): Promise<Hex>;
  tokenBalance(owner: Address): Promise<bigint>;
  /** Deploys a compiled contract from `from` (default: the deployer) and returns its address. */
  deploy(contract: CompiledContract, args?: readonly unknown[], from?: TestAccount): Promise<Address>;
  stop(): Promise<void>;
}

/** The test token compiled from its Solidity source (cached on disk after the first compile). */
export function compileTestUsdc(): CompiledContract {
  const source = readFileSync(new URL('./contracts/TestUsdc.sol', import.meta.url), 'utf8');
  return compileSolidity({ sources: { 'TestUsdc.sol': source }, contractName: 'TestUsdc' });
}

/** Starts anvil, deploys the EIP-3009 token and funds `accounts` fresh accounts with ETH. */
export async function startLocalChain(options: LocalChainOptions = {}): Promise<LocalChain> {
  const chainId = options.chainId ?? 31337;
  const tokenArtifact = compileTestUsdc();
  const anvil = await startAnvil({ ...options, chainId });
  try {
    const chain = defineChain({
      id: chainId,
      name: 'Tollgate local chain',
      nativeCurrency: { name: 'Ether', symbol: 'ETH', decimals: 18 },
      rpcUrls: { default: { http: [anvil.rpcUrl] } },
    });
    const transport = http(anvil.rpcUrl);
    const publicClient = createPublicClient({ chain, transport, pollingInterval: POLLING_INTERVAL_MS });
    const testClient = createTestClient({ chain, transport, mode: 'anvil', pollingInterval: POLLING_INTERVAL_MS });
    const walletClient = (a: TestAccount): LocalWalletClient =>
      createWalletClient({ chain, transport, account: a.account, pollingInterval: POLLING_INTERVAL_MS });

    async function newAccount(): Promise<TestAccount> {
      const privateKey = generatePrivateKey();
      const account = privateKeyToAccount(privateKey);
      await testClient.setBalance({ address: account.address, value: parseEther('100') });
      return { address: account.address, privateKey, account };
    }

    async function deploy(contract: CompiledContract, args: readonly unknown[] = [], from?: TestAccount): Promise<Address> {
      const hash = await walletClient(from ?? deployer).deployContract({ abi: contract.abi, bytecode: contract.bytecode, args });
      const receipt = await publicClient.waitForTransactionReceipt({ hash });
      if (receipt.status !== 'success' || !receipt.contractAddress) throw new Error(`deploying ${contract.contractName} failed: ${hash}`);
      return getAddress(receipt.contractAddress);
    }

    const deployer = await newAccount();
    const name = options.tokenName ?? 'USD Coin';
    const version = options.tokenVersion ?? '2';
    const token: LocalToken = {
      address: await deploy(tokenArtifact, [name, version]),
      name,
      version,
      decimals: 6,
      abi: tokenArtifact.abi,
    };
    const accounts = await Promise.all(Array.from({ length: options.accounts ?? 4 }, () => newAccount()));

    return {
      rpcUrl: anvil.rpcUrl,
      chain,
      chainId,
      network: `eip155:${chainId}`,
      publicClient,
      testClient,
      deployer,
      accounts,
      token,
      walletClient,
      newAccount,
      async mint(to, amount) {
        const hash = await walletClient(deployer).writeContract({ address: token.address, abi: token.abi, functionName: 'mint', args: [to, amount] });
        await publicClient.waitForTransactionReceipt({ hash });
        return hash;
      },
      async tokenBalance(owner) {
        return (await publicClient.readContract({ address: token.address, abi: token.abi, functionName: 'balanceOf', args: [owner] })) as bigint;
      },
      deploy,
      stop: anvil.stop,
    };
  } catch (error) {
    await anvil.stop();
    throw error;
  }
}
