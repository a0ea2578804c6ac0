/**
 * The evm `charge` intent end to end on the local chain, paid by mppx's real client: success,
 * replay (sequential and concurrent), tampered signature, wrong payee, insufficient balance,
 * expired challenge and authorization, settlement failure, an upstream failure (not charged) —
 * and the chain's balances, the ledger's earnings and the audit log agree after each.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Challenge, Credential, Receipt, evm } from 'mppx';
import { Mppx, evm as evmClient } from 'mppx/client';
import { getAddress, type Hex } from 'viem';
import { accountId, openTollgate, type Tollgate } from '@tollgate/core';
import { assertTollgateHealthy, testDatabases, type TestDb } from '@tollgate/core/testing';
import { startLocalChain, type LocalChain, type TestAccount } from '../chain/index.ts';
import { payOverHttp } from './http.ts';
import { MPP_RAIL_ACCOUNT } from './index.ts';
import { mppRig, testOffer, type MppRig } from './testing.ts';

const PRICE = 10_000n;

describe('mpp charge on the local chain', () => {
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
      let clockSkewMs = 0;
      let upstreamCalls = 0;
      let beforeDeliver: (() => Promise<void>) | undefined;
      const offer = testOffer({ amountMicros: PRICE, intents: ['charge'] });

      const handle = (request: Request) => payOverHttp(rig.seller, request, offer, async () => {
        upstreamCalls += 1;
        await beforeDeliver?.();
        if (request.url.endsWith('/fail')) return new Response('boom', { status: 503 });
        const body = JSON.stringify({ hits: 3, call: upstreamCalls });
        return new Response(body, { headers: { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(body)) } });
      });
      const local = async (input: RequestInfo | URL, init?: RequestInit) => handle(new Request(input, init));

      function client(payer: TestAccount) {
        return Mppx.create({
          polyfill: false,
          fetch: local,
          methods: [evmClient.charge({
            account: payer.account, authorization: { name: chain.token.name, version: chain.token.version },
            currencies: [chain.token.address], networks: [chain.chainId], decimals: 6, maxAmount: '1',
          })],
        });
      }

      /** A credential made by mppx for a fresh challenge, not sent yet. */
      async function credentialFor(payer: TestAccount): Promise<string> {
        const unpaid = await local('http://seller.test/search');
        assert.equal(unpaid.status, 402);
        return client(payer).createCredential(unpaid);
      }

      async function funded(amount = 1_000_000n): Promise<TestAccount> {
        const account = await chain.newAccount();
        if (amount > 0n) await chain.mint(account.address, amount);
        return account;
      }

      async function earnings(): Promise<bigint> {
        const [account] = await tg.ledger.lookupAccounts([accountId.earnings('sel_demo')]);
        return account ? account.creditsPosted - account.debitsPosted : 0n;
      }

      before(async () => {
        db = await engine.open();
        tg = await openTollgate({ db });
        rig = await mppRig(chain, tg, { now: () => new Date(Date.now() + clockSkewMs) });
      });
      after(async () => {
        await assertTollgateHealthy(tg);
        // Everything the rail recorded came from the chain: the rail account is the negative of what the server received.
        const [rail] = await tg.ledger.lookupAccounts([MPP_RAIL_ACCOUNT]);
        assert.equal((rail?.debitsPosted ?? 0n) - (rail?.creditsPosted ?? 0n), await earnings());
        await tg.close();
        await db.close();
      });

      test('no credential: 402 with a Payment challenge, problem details and no-store', async () => {
        const response = await local('http://seller.test/search');
        assert.equal(response.status, 402);
        assert.equal(response.headers.get('cache-control'), 'no-store');
        assert.equal(response.headers.get('content-type'), 'application/problem+json');
        const challenge = Challenge.fromResponse(response);
        assert.equal(challenge.method, 'evm');
        assert.equal(challenge.intent, 'charge');
        assert.equal(challenge.realm, 'tollgate.test');
        assert.deepEqual(challenge.request, {
          amount: '10000', currency: getAddress(chain.token.address), recipient: rig.server.address,
          methodDetails: { chainId: chain.chainId, credentialTypes: ['authorization'], decimals: 6 },
        });
        const problem = await response.json();
        assert.equal(problem.type, 'https://paymentauth.org/problems/payment-required');
        assert.equal(problem.status, 402);
        assert.equal(problem.challengeId, challenge.id);
      });

      test("mppx's client pays: 200, Payment-Receipt with the tx hash, tokens moved, earnings in the ledger", async () => {
        const payer = await funded();
        const serverBefore = await chain.tokenBalance(rig.server.address);
        const earned = await earnings();
        const calls = upstreamCalls;
        const response = await client(payer).fetch('http://seller.test/search');
        assert.equal(response.status, 200);
        assert.equal((await response.json()).hits, 3);
        assert.equal(response.headers.get('cache-control'), 'private');
        const receipt = Receipt.fromResponse(response);
        assert.equal(receipt.status, 'success');
        assert.equal(receipt.method, 'evm');
        const tx = await chain.publicClient.getTransactionReceipt({ hash: receipt.reference as Hex });
        assert.equal(tx.status, 'success');
        assert.equal(upstreamCalls, calls + 1);
        assert.equal(await chain.tokenBalance(payer.address), 1_000_000n - PRICE);
        assert.equal(await chain.tokenBalance(rig.server.address), serverBefore + PRICE);
        assert.equal(await earnings(), earned + PRICE);
        await tg.audit.flush();
        const { records } = await tg.audit.query({ service: 'search' });
        const record = records.find((r) => r.summary?.includes(receipt.reference));
        assert.ok(record, 'an audit record names the transaction');
        assert.equal(record.rail, 'mpp');
        assert.equal(record.capturedMicros, PRICE);
      });

      test('a replayed credential is refused, sequentially and when sent five times at once', async () => {
        const payer = await funded();
        const credential = await credentialFor(payer);
        const calls = upstreamCalls;
        const first = await local('http://seller.test/search', { headers: { authorization: credential } });
        assert.equal(first.status, 200);
        const again = await local('http://seller.test/search', { headers: { authorization: credential } });
        assert.equal(again.status, 402);
        assert.equal((await again.json()).type, 'https://paymentauth.org/problems/invalid-challenge');
        assert.ok(again.headers.get('www-authenticate')?.startsWith('Payment '), 'a fresh challenge comes with the refusal');

        const burst = await credentialFor(payer);
        const answers = await Promise.all(Array.from({ length: 5 }, () => local('http://seller.test/search', { headers: { authorization: burst } })));
        assert.deepEqual(answers.map((a) => a.status).sort(), [200, 402, 402, 402, 402]);
        assert.equal(upstreamCalls, calls + 2, 'the upstream ran once per credential');
        assert.equal(await chain.tokenBalance(payer.address), 1_000_000n - 2n * PRICE, 'paid exactly twice');
      });

      test('Idempotency-Key: a retry of a paid credential with the same key gets the same answer, not a second payment', async () => {
        const payer = await funded();
        const credential = await credentialFor(payer);
        const calls = upstreamCalls;
        const first = await local('http://seller.test/search', { headers: { authorization: credential, 'idempotency-key': 'retry-1' } });
        assert.equal(first.status, 200);
        const firstBody = await first.text();
        const again = await local('http://seller.test/search', { headers: { authorization: credential, 'idempotency-key': 'retry-1' } });
        assert.equal(again.status, 200);
        assert.equal(again.headers.get('x-tollgate-replayed'), 'true');
        assert.equal(await again.text(), firstBody, 'the very same answer');
        assert.equal(again.headers.get('payment-receipt'), first.headers.get('payment-receipt'));
        const otherKey = await local('http://seller.test/search', { headers: { authorization: credential, 'idempotency-key': 'retry-2' } });
        assert.equal(otherKey.status, 402, 'another key is a replay');
        const noKey = await local('http://seller.test/search', { headers: { authorization: credential } });
        assert.equal(noKey.status, 402);
        assert.equal(upstreamCalls, calls + 1, 'the upstream ran once');
        assert.equal(await chain.tokenBalance(payer.address), 1_000_000n - PRICE, 'paid once');
      });

      test('a tampered signature, a wrong payee and an expired authorization are refused before the upstream runs', async () => {
        const payer = await funded();
        const calls = upstreamCalls;
        const tampered = Credential.deserialize(await credentialFor(payer)) as Credential.Credential<evm.AuthorizationPayload>;
        const sig = tampered.payload.signature;
        tampered.payload.signature = `${sig.slice(0, 10)}${sig[10] === 'a' ? 'b' : 'a'}${sig.slice(11)}` as Hex;
        const r1 = await local('http://seller.test/search', { headers: { authorization: Credential.serialize(tampered) } });
        assert.equal(r1.status, 402);
        assert.equal((await r1.json()).type, 'https://paymentauth.org/problems/verification-failed');

        // A payer who signs a transfer to someone else (valid signature, wrong `to`).
        const unpaid = await local('http://seller.test/search');
        const challenge = Challenge.fromResponse(unpaid);
        const thief = chain.accounts[3]!.address;
        const r2 = await local('http://seller.test/search', { headers: { authorization: await signed(payer, challenge, { to: thief }) } });
        assert.equal(r2.status, 402);
        assert.match((await r2.json()).detail, /recipient/);

        const r3 = await local('http://seller.test/search', { headers: { authorization: await signed(payer, Challenge.fromResponse(await local('http://seller.test/search')), { validBefore: BigInt(Math.floor(Date.now() / 1000) - 5) }) } });
        assert.equal(r3.status, 402);
        assert.equal((await r3.json()).type, 'https://paymentauth.org/problems/payment-expired');
        assert.equal(upstreamCalls, calls);
        assert.equal(await chain.tokenBalance(payer.address), 1_000_000n);
        assert.equal(await chain.tokenBalance(thief), 0n);
      });

      test('insufficient balance: 402 before the upstream, nothing moves', async () => {
        const broke = await funded(PRICE - 1n);
        const calls = upstreamCalls;
        const response = await local('http://seller.test/search', { headers: { authorization: await credentialFor(broke) } });
        assert.equal(response.status, 402);
        const problem = await response.json();
        assert.equal(problem.reason, 'insufficient_balance');
        assert.equal(upstreamCalls, calls);
        assert.equal(await chain.tokenBalance(broke.address), PRICE - 1n);
      });

      test('an expired challenge is refused with payment-expired', async () => {
        const payer = await funded();
        const credential = await credentialFor(payer);
        clockSkewMs = 301_000;
        try {
          const response = await local('http://seller.test/search', { headers: { authorization: credential } });
          assert.equal(response.status, 402);
          assert.equal((await response.json()).type, 'https://paymentauth.org/problems/payment-expired');
        } finally {
          clockSkewMs = 0;
        }
      });

      test('settlement failure (the payer empties the wallet while the upstream runs): the answer is withheld, nothing recorded', async () => {
        const payer = await funded(PRICE);
        const earned = await earnings();
        const credential = await credentialFor(payer);
        beforeDeliver = async () => {
          const hash = await chain.walletClient(payer).writeContract({ address: chain.token.address, abi: chain.token.abi, functionName: 'transfer', args: [chain.accounts[2]!.address, PRICE] });
          await chain.publicClient.waitForTransactionReceipt({ hash });
        };
        try {
          const response = await local('http://seller.test/search', { headers: { authorization: credential } });
          assert.equal(response.status, 402);
          const problem = await response.json();
          assert.equal(problem.reason, 'settlement_failed');
          assert.equal(response.headers.get('payment-receipt'), null);
          assert.doesNotMatch(JSON.stringify(problem), /hits/);
        } finally {
          beforeDeliver = undefined;
        }
        assert.equal(await earnings(), earned);
        assert.ok(rig.logged.some((l) => l.message.includes('settlement failed')));
        await tg.audit.flush();
        const { records } = await tg.audit.query({ service: 'search' });
        const failed = records.find((r) => r.errorCode === 'mpp_settlement_failed');
        assert.ok(failed, 'the failed settlement is audited, not as insufficient funds');
        assert.equal(failed.capturedMicros, 0n);
      });

      test('an upstream failure is passed through and not charged (the authorization is never submitted)', async () => {
        const payer = await funded();
        const unpaid = await local('http://seller.test/search/fail');
        const credential = await client(payer).createCredential(unpaid);
        const response = await local('http://seller.test/search/fail', { headers: { authorization: credential } });
        assert.equal(response.status, 503);
        assert.equal(response.headers.get('payment-receipt'), null);
        assert.equal(await chain.tokenBalance(payer.address), 1_000_000n);
      });

      /** An authorization signed by hand for `challenge`, with some fields changed. */
      async function signed(payer: TestAccount, challenge: Challenge.Challenge, change: { to?: `0x${string}`; validBefore?: bigint }): Promise<string> {
        const request = challenge.request as { amount: string; recipient: `0x${string}` };
        const nonce = evm.challengeHash(challenge);
        const message = {
          from: payer.address, to: change.to ?? request.recipient, value: BigInt(request.amount), validAfter: 0n,
          validBefore: change.validBefore ?? BigInt(Math.floor(Date.now() / 1000) + 300), nonce,
        };
        const signature = await payer.account.signTypedData({
          domain: { name: chain.token.name, version: chain.token.version, chainId: chain.chainId, verifyingContract: chain.token.address },
          types: evm.authorizationTypes, primaryType: 'TransferWithAuthorization', message,
        });
        return Credential.serialize(Credential.from({
          challenge,
          payload: { type: 'authorization', from: message.from, to: message.to, value: message.value.toString(), validAfter: '0', validBefore: message.validBefore.toString(), nonce, signature },
        }));
      }
    });
  }
});
