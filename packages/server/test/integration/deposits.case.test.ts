/**
 * On-chain deposits: a USDC transfer to the deposit address on the local chain, verified from the
 * receipt's Transfer log before the wallet is credited, each transaction hash at most once.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Hex } from 'viem';
import { assertTollgateHealthy, testDatabases } from '@tollgate/core/testing';
import { startLocalChain, type LocalChain, type TestAccount } from '@tollgate/rails/testing';
import { startGateway, type Gateway } from './harness.ts';

describe('on-chain deposits', () => {
  let chain: LocalChain;
  let depositAddress: TestAccount;

  before(async () => {
    chain = await startLocalChain();
    depositAddress = await chain.newAccount();
  });
  after(() => chain?.stop());

  const send = async (from: TestAccount, to: string, amount: bigint): Promise<Hex> => {
    const hash = await chain.walletClient(from).writeContract({ address: chain.token.address, abi: chain.token.abi, functionName: 'transfer', args: [to, amount] });
    await chain.publicClient.waitForTransactionReceipt({ hash });
    return hash;
  };

  for (const engine of testDatabases) {
    describe(`on ${engine.kind}`, { skip: engine.skip }, () => {
      let gw: Gateway;
      let admin: string;
      let user: TestAccount;
      const deposit = (body: unknown) => fetch(`${gw.url}/v1/deposits`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-api-key': admin }, body: JSON.stringify(body) });

      before(async () => {
        gw = await startGateway(engine, { chainRpcUrl: chain.rpcUrl, depositAddress: depositAddress.address, depositAsset: chain.token.address, logLevel: 'silent' }, { defaultService: false });
        admin = await gw.adminKey();
        user = await chain.newAccount();
        await chain.mint(user.address, 10_000_000n);
      });
      after(async () => {
        if (gw) await assertTollgateHealthy(gw.tg);
        await gw?.close();
      });

      test('a transfer to the deposit address is credited once, to one wallet', async () => {
        const ada = await gw.buyer({ funds: '1.00' });
        const bob = await gw.buyer({ funds: '1.00' });
        const address = (await (await fetch(`${gw.url}/v1/deposits/address`, { headers: { 'x-api-key': admin } })).json()) as { depositAddress: string };
        assert.equal(address.depositAddress, depositAddress.address);
        const txHash = await send(user, depositAddress.address, 2_500_000n);
        const first = await deposit({ ownerId: ada.userId, txHash });
        assert.equal(first.status, 201);
        const credited = (await first.json()) as { applied: boolean; amount: string; from: string };
        assert.deepEqual([credited.applied, credited.amount, credited.from], [true, '2.50', user.address]);
        assert.equal((await gw.tg.wallets.balance(ada.userId)).availableMicros, 3_500_000n);
        // Concurrent repeats credit nothing more.
        const repeats = await Promise.all(Array.from({ length: 4 }, () => deposit({ ownerId: ada.userId, txHash: txHash.toUpperCase().replace('0X', '0x') })));
        for (const r of repeats) assert.equal(((await r.json()) as { applied: boolean }).applied, false);
        assert.equal((await gw.tg.wallets.balance(ada.userId)).availableMicros, 3_500_000n);
        const stolen = await deposit({ ownerId: bob.userId, txHash });
        assert.equal(stolen.status, 409);
        assert.equal((await gw.tg.wallets.balance(bob.userId)).availableMicros, 1_000_000n);
      });

      test('what is not a deposit is refused with the reason, and credits nothing', async () => {
        const ada = await gw.buyer({ funds: '1.00' });
        const elsewhere = await send(user, chain.deployer.address, 1_000n);
        const cases: [unknown, number][] = [
          [{ ownerId: ada.userId, txHash: elsewhere }, 400],
          [{ ownerId: ada.userId, txHash: `0x${'ab'.repeat(32)}` }, 404],
          [{ ownerId: ada.userId, txHash: 'nope' }, 400],
          [{ ownerId: ada.userId }, 400],
          [{ ownerId: 'usr_missing', txHash: await send(user, depositAddress.address, 1_000n) }, 404],
        ];
        for (const [body, status] of cases) assert.equal((await deposit(body)).status, status, JSON.stringify(body));
        assert.equal((await gw.tg.wallets.balance(ada.userId)).availableMicros, 1_000_000n);
      });
    });
  }
});
