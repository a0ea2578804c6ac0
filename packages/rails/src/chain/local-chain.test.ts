import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { parseSignature, toHex, type Address, type Hex } from 'viem';
import { TRANSFER_WITH_AUTHORIZATION_TYPES } from '../x402/exact-evm.ts';
import { compileSolidity, startLocalChain, type LocalChain, type TestAccount } from './index.ts';

const AUTH_TYPES = TRANSFER_WITH_AUTHORIZATION_TYPES;

describe('local chain', () => {
  let chain: LocalChain;
  let payer: TestAccount;
  let payee: TestAccount;
  let relayer: TestAccount;

  before(async () => {
    chain = await startLocalChain();
    [payer, payee, relayer] = chain.accounts as [TestAccount, TestAccount, TestAccount];
    await chain.mint(payer.address, 5_000_000n);
  });
  after(() => chain.stop());

  async function sign(from: TestAccount, to: Address, value: bigint, validBefore: bigint, nonce: Hex) {
    const signature = await from.account.signTypedData({
      domain: { name: chain.token.name, version: chain.token.version, chainId: chain.chainId, verifyingContract: chain.token.address },
      types: AUTH_TYPES,
      primaryType: 'TransferWithAuthorization',
      message: { from: from.address, to, value, validAfter: 0n, validBefore, nonce },
    });
    const { v, r, s } = parseSignature(signature);
    return [from.address, to, value, 0n, validBefore, nonce, Number(v), r, s] as const;
  }

  async function submit(args: readonly unknown[], by = relayer, functionName = 'transferWithAuthorization') {
    const { request } = await chain.publicClient.simulateContract({
      address: chain.token.address, abi: chain.token.abi, functionName, args, account: by.account,
    });
    const hash = await chain.walletClient(by).writeContract(request);
    return chain.publicClient.waitForTransactionReceipt({ hash });
  }

  test('the token speaks EIP-712 as USDC does: name, version, 6 decimals', async () => {
    const read = (functionName: string) => chain.publicClient.readContract({ address: chain.token.address, abi: chain.token.abi, functionName });
    assert.equal(await read('name'), 'USD Coin');
    assert.equal(await read('version'), '2');
    assert.equal(await read('decimals'), 6);
    assert.equal(chain.network, 'eip155:31337');
  });

  test('a relayer submits a signed authorization once; a replay reverts', async () => {
    const nonce = toHex(crypto.getRandomValues(new Uint8Array(32)));
    const validBefore = BigInt(Math.floor(Date.now() / 1000) + 600);
    const args = await sign(payer, payee.address, 250_000n, validBefore, nonce);
    const receipt = await submit(args);
    assert.equal(receipt.status, 'success');
    assert.equal(await chain.tokenBalance(payee.address), 250_000n);
    assert.equal(await chain.tokenBalance(payer.address), 4_750_000n);
    assert.equal(
      await chain.publicClient.readContract({ address: chain.token.address, abi: chain.token.abi, functionName: 'authorizationState', args: [payer.address, nonce] }),
      true,
    );
    await assert.rejects(submit(args), /authorization is used or canceled/);
  });

  test('expired, tampered and over-balance authorizations revert', async () => {
    const nonce = () => toHex(crypto.getRandomValues(new Uint8Array(32)));
    const now = BigInt(Math.floor(Date.now() / 1000));
    await assert.rejects(submit(await sign(payer, payee.address, 1n, now - 1n, nonce())), /expired/);
    const tampered = [...(await sign(payer, payee.address, 1n, now + 600n, nonce()))];
    tampered[2] = 2n;
    await assert.rejects(submit(tampered), /invalid signature/);
    await assert.rejects(submit(await sign(payer, payee.address, 10_000_000n, now + 600n, nonce())), /exceeds balance/);
  });

  test('receiveWithAuthorization only from the payee', async () => {
    const validBefore = BigInt(Math.floor(Date.now() / 1000) + 600);
    const nonce = toHex(crypto.getRandomValues(new Uint8Array(32)));
    const signature = await payer.account.signTypedData({
      domain: { name: chain.token.name, version: chain.token.version, chainId: chain.chainId, verifyingContract: chain.token.address },
      types: { ReceiveWithAuthorization: AUTH_TYPES.TransferWithAuthorization },
      primaryType: 'ReceiveWithAuthorization',
      message: { from: payer.address, to: payee.address, value: 7n, validAfter: 0n, validBefore, nonce },
    });
    const { v, r, s } = parseSignature(signature);
    const args = [payer.address, payee.address, 7n, 0n, validBefore, nonce, Number(v), r, s];
    await assert.rejects(submit(args, relayer, 'receiveWithAuthorization'), /caller must be the payee/);
    const before = await chain.tokenBalance(payee.address);
    assert.equal((await submit(args, payee, 'receiveWithAuthorization')).status, 'success');
    assert.equal(await chain.tokenBalance(payee.address), before + 7n);
  });

  test('compiles and deploys another contract', async () => {
    const counter = compileSolidity({
      sources: { 'Counter.sol': 'pragma solidity ^0.8.20; contract Counter { uint256 public n; function bump() external { n += 1; } }' },
      contractName: 'Counter',
    });
    const address = await chain.deploy(counter);
    const hash = await chain.walletClient(relayer).writeContract({ address, abi: counter.abi, functionName: 'bump' });
    await chain.publicClient.waitForTransactionReceipt({ hash });
    assert.equal(await chain.publicClient.readContract({ address, abi: counter.abi, functionName: 'n' }), 1n);
    assert.throws(() => compileSolidity({ sources: { 'Bad.sol': 'contract {' }, contractName: 'Bad' }), /solc:/);
  });
});
