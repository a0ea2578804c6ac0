/**
 * The evm `session` intent end to end on the local chain, paid by mppx's real client with
 * Tollgate's evm session method: one deposit, many calls with no transaction each, close → the
 * escrow pays the server and refunds the payer, and chain and ledger agree. Also: a replayed or
 * foreign voucher, a voucher above the deposit, concurrent calls on one channel, a closed channel,
 * and the payer's forced close after the grace period.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Credential, Receipt } from 'mppx';
import { Mppx } from 'mppx/client';
import { type Hex } from 'viem';
import { accountId, openTollgate, type Tollgate } from '@tollgate/core';
import { assertTollgateHealthy, testDatabases, type TestDb } from '@tollgate/core/testing';
import { startLocalChain, type LocalChain, type TestAccount } from '../chain/index.ts';
import { ESCROW_ABI, VOUCHER_TYPES, voucherDomain } from './escrow/abi.ts';
import { payOverHttp } from './http.ts';
import { evmSession } from './session-client.ts';
import { mppRig, testOffer, TEST_REALM, TEST_SECRET, type MppRig } from './testing.ts';
import { RailEarnings } from '../earnings.ts';
import { ChallengeBook } from './challenges.ts';
import { SqlChannelStore } from './channel-store.ts';
import { EvmCharge } from './evm-charge.ts';
import { EvmSessions } from './evm-session.ts';
import { MppSeller } from './seller.ts';
import { SqlSingleUse } from './single-use.ts';

const PRICE = 2_500n;
const DEPOSIT = 100_000n;

describe('mpp session on the local chain', () => {
  let chain: LocalChain;
  before(async () => {
    chain = await startLocalChain();
  });
  after(() => chain.stop());

  for (const engine of testDatabases) {
    describe(engine.kind, { skip: engine.skip }, () => {
      let db: TestDb;
      let tg: Tollgate;
      let rig: MppRig;
      let upstreamCalls = 0;
      const offer = testOffer({ amountMicros: PRICE, intents: ['session'] });
      let seller: MppSeller;
      const handle = (request: Request) => payOverHttp(seller, request, offer, async () => {
        upstreamCalls += 1;
        return request.url.endsWith('/fail') ? new Response('boom', { status: 503 }) : Response.json({ n: upstreamCalls });
      });
      const local = async (input: RequestInfo | URL, init?: RequestInit) => handle(new Request(input, init));

      const clientOf = (method: ReturnType<typeof evmSession>) => Mppx.create({ polyfill: false, fetch: local, methods: [method] });

      async function payer(): Promise<{ account: TestAccount; method: ReturnType<typeof evmSession>; mppx: ReturnType<typeof clientOf> }> {
        const account = await chain.newAccount();
        await chain.mint(account.address, 1_000_000n);
        const method = evmSession({ walletClient: chain.walletClient(account), publicClient: chain.publicClient, depositMicros: DEPOSIT, maxDepositMicros: 1_000_000n, maxAmountMicros: 10_000n });
        return { account, method, mppx: clientOf(method) };
      }

      async function earnings(): Promise<bigint> {
        const [account] = await tg.ledger.lookupAccounts([accountId.earnings('sel_demo')]);
        return account ? account.creditsPosted - account.debitsPosted : 0n;
      }

      async function close(mppx: ReturnType<typeof clientOf>): Promise<Response> {
        const challenge = await local('http://seller.test/search');
        const credential = await mppx.createCredential(challenge, { action: 'close' });
        return local('http://seller.test/search', { headers: { authorization: credential } });
      }

      before(async () => {
        db = await engine.open();
        tg = await openTollgate({ db });
        rig = await mppRig(chain, tg);
        seller = rig.seller;
      });
      after(async () => {
        await assertTollgateHealthy(tg);
        await tg.close();
        await db.close();
      });

      test('open once, 20 calls without a transaction each, close: chain and ledger agree', async () => {
        const { account, method, mppx } = await payer();
        const serverBefore = await chain.tokenBalance(rig.server.address);
        const earned = await earnings();
        const first = await mppx.fetch('http://seller.test/search');
        assert.equal(first.status, 200);
        const channelId = method.channel(rig.escrow)!.channelId;
        assert.equal(Receipt.fromResponse(first).reference, channelId);
        assert.equal(await chain.tokenBalance(account.address), 1_000_000n - DEPOSIT, 'the deposit is escrowed');
        const blockAfterOpen = await chain.publicClient.getBlockNumber({ cacheTime: 0 });
        for (let i = 0; i < 19; i++) {
          const response = await mppx.fetch('http://seller.test/search');
          assert.equal(response.status, 200);
          const receipt = Receipt.fromResponse(response) as Receipt.Receipt & { spent: string; acceptedCumulative: string };
          assert.equal(receipt.spent, String(PRICE * BigInt(i + 2)));
          assert.equal(response.headers.get('cache-control'), 'private');
        }
        assert.equal(await chain.publicClient.getBlockNumber({ cacheTime: 0 }), blockAfterOpen, 'no transaction per call');
        assert.equal(await chain.tokenBalance(rig.server.address), serverBefore, 'nothing settled before close');

        const closed = await close(mppx);
        assert.equal(closed.status, 200);
        const receipt = Receipt.fromResponse(closed) as Receipt.Receipt & { txHash: Hex };
        assert.equal((await chain.publicClient.getTransactionReceipt({ hash: receipt.txHash })).status, 'success');
        assert.equal(await chain.tokenBalance(rig.server.address), serverBefore + 20n * PRICE);
        assert.equal(await chain.tokenBalance(account.address), 1_000_000n - 20n * PRICE, 'the rest of the deposit came back');
        assert.equal(await earnings(), earned + 20n * PRICE);
        await tg.audit.flush();
        const { records } = await tg.audit.query({ service: 'search' });
        const record = records.find((r) => r.callId.includes(channelId));
        assert.ok(record, 'the settlement is audited with the channel id');
        assert.equal(record.capturedMicros, 20n * PRICE);
        assert.match(record.summary ?? '', new RegExp(receipt.txHash), 'and the close transaction');
        assert.equal(record.rail, 'mpp');

        const late = await local('http://seller.test/search', { headers: { authorization: await voucher(account, channelId, 21n * PRICE, Credential.deserialize(await mppx.createCredential(await local('http://seller.test/search'))).challenge) } });
        assert.equal(late.status, 410);
        assert.equal((await late.json()).type, 'https://paymentauth.org/problems/session/channel-finalized');
      });

      test('replayed, foreign and over-deposit vouchers are refused; concurrent calls on one channel are each charged once', async () => {
        const { account, method, mppx } = await payer();
        assert.equal((await mppx.fetch('http://seller.test/search')).status, 200);
        const channelId = method.channel(rig.escrow)!.channelId;
        const challenge = async () => Credential.deserialize(await mppx.createCredential(await local('http://seller.test/search'))).challenge;
        const calls = upstreamCalls;

        const second = await voucher(account, channelId, 2n * PRICE, await challenge());
        assert.equal((await local('http://seller.test/search', { headers: { authorization: second } })).status, 200);
        const replay = await local('http://seller.test/search', { headers: { authorization: second } });
        assert.equal(replay.status, 402, 'a voucher pays for one call');
        assert.equal((await replay.json()).type, 'https://paymentauth.org/problems/session/insufficient-balance');

        const stranger = await chain.newAccount();
        const foreign = await local('http://seller.test/search', { headers: { authorization: await voucher(stranger, channelId, 3n * PRICE, await challenge()) } });
        assert.equal(foreign.status, 402);
        assert.equal((await foreign.json()).type, 'https://paymentauth.org/problems/session/signer-mismatch');

        const greedy = await local('http://seller.test/search', { headers: { authorization: await voucher(account, channelId, DEPOSIT + 1n, await challenge()) } });
        assert.equal(greedy.status, 402);
        assert.equal((await greedy.json()).type, 'https://paymentauth.org/problems/session/amount-exceeds-deposit');
        assert.equal(upstreamCalls, calls + 1);

        // Ten calls at once, each with its own (higher) voucher, arriving in any order.
        const challenges = await Promise.all(Array.from({ length: 10 }, () => challenge()));
        const vouchers = await Promise.all(challenges.map((c, i) => voucher(account, channelId, BigInt(3 + i) * PRICE, c)));
        const answers = await Promise.all(vouchers.reverse().map((v) => local('http://seller.test/search', { headers: { authorization: v } })));
        assert.deepEqual(answers.map((a) => a.status), Array(10).fill(200));
        assert.equal(upstreamCalls, calls + 11);
        const spent = answers.map((a) => BigInt((Receipt.fromResponse(a) as Receipt.Receipt & { spent: string }).spent)).sort((a, b) => (a < b ? -1 : 1));
        assert.equal(spent.at(-1), 12n * PRICE, 'twelve calls, twelve prices');
        // Every call was charged: the highest voucher (12 prices) is used up, so replaying it buys nothing more.
        const replayHighest = await local('http://seller.test/search', { headers: { authorization: vouchers[0]! } });
        assert.equal(replayHighest.status, 402);
        assert.equal((await replayHighest.json()).type, 'https://paymentauth.org/problems/session/insufficient-balance');
      });

      test('a failed call is not charged, not per call and not at close (the close settles the voucher that covers the delivered calls)', async () => {
        const { account, mppx } = await payer();
        const serverBefore = await chain.tokenBalance(rig.server.address);
        assert.equal((await mppx.fetch('http://seller.test/search')).status, 200);
        const failed = await mppx.fetch('http://seller.test/search/fail');
        assert.equal(failed.status, 503);
        assert.equal(failed.headers.get('payment-receipt'), null);
        const third = await mppx.fetch('http://seller.test/search');
        assert.equal(third.status, 200);
        const receipt = Receipt.fromResponse(third) as Receipt.Receipt & { spent: string; acceptedCumulative: string };
        assert.equal(receipt.spent, String(2n * PRICE));
        assert.equal(receipt.acceptedCumulative, String(3n * PRICE), "the client's vouchers ran one price ahead");
        assert.equal((await close(mppx)).status, 200);
        assert.equal(await chain.tokenBalance(rig.server.address), serverBefore + 2n * PRICE);
        assert.equal(await chain.tokenBalance(account.address), 1_000_000n - 2n * PRICE);
      });

      test('a restarted gateway (new process, same database) continues the channel where it was and closes it', async () => {
        const { account, mppx } = await payer();
        const serverBefore = await chain.tokenBalance(rig.server.address);
        for (let i = 0; i < 3; i++) assert.equal((await mppx.fetch('http://seller.test/search')).status, 200);
        const before = seller;
        seller = new MppSeller({
          book: new ChallengeBook({ realm: TEST_REALM, secretKey: TEST_SECRET, challengeTtlSeconds: 300 }),
          chain: rig.chain, charge: new EvmCharge(rig.chain),
          sessions: new EvmSessions({ chain: rig.chain, escrow: rig.escrow, store: new SqlChannelStore(db) }),
          earnings: new RailEarnings({ tg }), singleUse: new SqlSingleUse(db),
        });
        try {
          const fourth = await mppx.fetch('http://seller.test/search');
          assert.equal(fourth.status, 200);
          assert.equal((Receipt.fromResponse(fourth) as Receipt.Receipt & { spent: string }).spent, String(4n * PRICE), 'the spent amount survived');
          assert.equal((await close(mppx)).status, 200);
        } finally {
          seller = before;
        }
        assert.equal(await chain.tokenBalance(rig.server.address), serverBefore + 4n * PRICE);
        assert.equal(await chain.tokenBalance(account.address), 1_000_000n - 4n * PRICE);
      });

      test('a close that landed on chain but was never recorded (its process died) is recorded when close is tried again', async () => {
        const { account, method, mppx } = await payer();
        for (let i = 0; i < 2; i++) assert.equal((await mppx.fetch('http://seller.test/search')).status, 200);
        const channelId = method.channel(rig.escrow)!.channelId;
        const earned = await earnings();
        const store = new SqlChannelStore(db);
        // What a dying process leaves behind: the channel marked closing, the close mined, nothing recorded.
        const fromBlock = await chain.publicClient.getBlockNumber({ cacheTime: 0 });
        await store.update(channelId, (s) => ({ state: { ...s!, closing: true, closingSinceMs: Date.now(), closingFromBlock: fromBlock }, result: undefined }));
        const signature = await account.account.signTypedData({ domain: voucherDomain(chain.chainId, rig.escrow), types: VOUCHER_TYPES, primaryType: 'Voucher', message: { channelId, cumulativeAmount: 2n * PRICE } });
        const hash = await chain.walletClient(rig.server).writeContract({ address: rig.escrow, abi: ESCROW_ABI, functionName: 'close', args: [channelId, 2n * PRICE, signature] });
        await chain.publicClient.waitForTransactionReceipt({ hash });
        assert.equal(await earnings(), earned, 'not recorded yet');
        const refused = await mppx.fetch('http://seller.test/search');
        assert.equal(refused.status, 410, 'the channel takes no vouchers meanwhile');
        const closed = await close(mppx);
        assert.equal(closed.status, 200);
        assert.equal((Receipt.fromResponse(closed) as Receipt.Receipt & { txHash: string }).txHash, hash);
        assert.equal(await earnings(), earned + 2n * PRICE);
        assert.equal((await store.get(channelId))?.finalized, true);
      });

      test('a reservation left by a dead process does not block close forever: long past any call, it is dropped', async () => {
        const { account, method, mppx } = await payer();
        const serverBefore = await chain.tokenBalance(rig.server.address);
        assert.equal((await mppx.fetch('http://seller.test/search')).status, 200);
        const channelId = method.channel(rig.escrow)!.channelId;
        const store = new SqlChannelStore(db);
        // A call reserved by a process that then died: in flight, never kept or given back.
        await store.update(channelId, (s) => ({ state: { ...s!, inFlight: 1, spent: s!.spent + PRICE, reservedAtMs: Date.now() }, result: undefined }));
        const challenge = Credential.deserialize(await mppx.createCredential(await local('http://seller.test/search'))).challenge;
        const closing = Credential.deserialize(await voucher(account, channelId, PRICE, challenge));
        const blocked = await local('http://seller.test/search', { headers: { authorization: Credential.serialize({ ...closing, payload: { ...(closing.payload as Record<string, unknown>), action: 'close' } }) } });
        assert.equal(blocked.status, 409, 'a recent reservation may still finish');
        await store.update(channelId, (s) => ({ state: { ...s!, reservedAtMs: Date.now() - 31 * 60_000 }, result: undefined }));
        assert.equal((await close(mppx)).status, 200);
        assert.equal(await chain.tokenBalance(rig.server.address), serverBefore + PRICE, 'only the delivered call is settled');
        assert.equal(await chain.tokenBalance(account.address), 1_000_000n - PRICE);
      });

      test("the payer's forced close: requestClose stops vouchers, withdraw after the grace period refunds the unsettled deposit", async () => {
        const { account, method, mppx } = await payer();
        assert.equal((await mppx.fetch('http://seller.test/search')).status, 200);
        const channelId = method.channel(rig.escrow)!.channelId;
        const wallet = chain.walletClient(account);
        const send = async (functionName: 'requestClose' | 'withdraw') => {
          const hash = await wallet.writeContract({ address: rig.escrow, abi: ESCROW_ABI, functionName, args: [channelId] });
          return chain.publicClient.waitForTransactionReceipt({ hash });
        };
        await send('requestClose');
        const refused = await mppx.fetch('http://seller.test/search');
        assert.equal(refused.status, 410);
        await assert.rejects(send('withdraw'), /CloseNotReady/);
        await chain.testClient.increaseTime({ seconds: 901 });
        await chain.testClient.mine({ blocks: 1 });
        assert.equal((await send('withdraw')).status, 'success');
        assert.equal(await chain.tokenBalance(account.address), 1_000_000n, 'nothing was settled, so everything comes back');
      });

      async function voucher(signer: TestAccount, channelId: Hex, cumulative: bigint, challenge: Credential.Credential['challenge']): Promise<string> {
        const signature = await signer.account.signTypedData({ domain: voucherDomain(chain.chainId, rig.escrow), types: VOUCHER_TYPES, primaryType: 'Voucher', message: { channelId, cumulativeAmount: cumulative } });
        return Credential.serialize(Credential.from({ challenge, payload: { action: 'voucher', channelId, cumulativeAmount: cumulative.toString(), signature } }));
      }
    });
  }
});
