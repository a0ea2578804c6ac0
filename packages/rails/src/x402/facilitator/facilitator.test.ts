import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { x402Client } from '@x402/core/client';
import { HTTPFacilitatorClient } from '@x402/core/http';
import type { PaymentPayload, PaymentRequired, PaymentRequirements } from '@x402/core/types';
import { ExactEvmScheme } from '@x402/evm/exact/client';
import { startLocalChain, type LocalChain, type TestAccount } from '../../chain/index.ts';
import { FacilitatorClient, LocalFacilitator, serveFacilitator, serveFetch, type FacilitatorServer } from './index.ts';

describe('local facilitator (HTTP API, real chain)', () => {
  let chain: LocalChain;
  let server: FacilitatorServer;
  let client: HTTPFacilitatorClient;
  let payer: TestAccount;
  let payee: TestAccount;

  before(async () => {
    chain = await startLocalChain();
    const [facilitatorAccount] = chain.accounts as [TestAccount];
    payer = await chain.newAccount();
    payee = await chain.newAccount();
    await chain.mint(payer.address, 1_000_000n);
    server = await serveFacilitator(new LocalFacilitator({ publicClient: chain.publicClient, walletClient: chain.walletClient(facilitatorAccount) }));
    client = new HTTPFacilitatorClient({ url: server.url });
  });
  after(async () => {
    await server?.close();
    await chain?.stop();
  });

  const requirements = (amount: string, payTo = payee.address): PaymentRequirements => ({
    scheme: 'exact', network: chain.network, asset: chain.token.address, amount, payTo, maxTimeoutSeconds: 300,
    extra: { name: chain.token.name, version: chain.token.version },
  });
  async function pay(accepts: PaymentRequirements, from = payer): Promise<PaymentPayload> {
    const buyer = x402Client.fromConfig({ schemes: [{ network: 'eip155:*', client: new ExactEvmScheme(from.account) }], spendControls: false });
    const required: PaymentRequired = { x402Version: 2, resource: { url: 'http://local.test/paid' }, accepts: [accepts] };
    return buyer.createPaymentPayload(required);
  }

  test('supported names the chain and the signer', async () => {
    const supported = await client.getSupported();
    assert.deepEqual(supported.kinds.map((k) => `${k.x402Version}:${k.scheme}:${k.network}`), [`2:exact:${chain.network}`, `1:exact:${chain.network}`]);
    assert.deepEqual(supported.signers['eip155:*'], [chain.accounts[0]!.address]);
  });

  test('verify then settle moves the tokens once; a retried settle returns the same transaction; a replay is refused', async () => {
    const accepts = requirements('250000');
    const payment = await pay(accepts);
    assert.deepEqual(await client.verify(payment, accepts), { isValid: true, payer: payer.address });
    const settled = await client.settle(payment, accepts);
    assert.equal(settled.success, true);
    assert.match(settled.transaction, /^0x[0-9a-f]{64}$/);
    const receipt = await chain.publicClient.getTransactionReceipt({ hash: settled.transaction as `0x${string}` });
    assert.equal(receipt.status, 'success');
    assert.equal(await chain.tokenBalance(payee.address), 250_000n);
    assert.equal(await chain.tokenBalance(payer.address), 750_000n);
    assert.equal((await client.settle(payment, accepts)).transaction, settled.transaction);
    assert.equal(await chain.tokenBalance(payee.address), 250_000n);
    const replay = await client.verify(payment, accepts);
    assert.deepEqual([replay.isValid, replay.invalidReason], [false, 'invalid_exact_evm_nonce_already_used']);
  });

  test('refusals name the reason: tampered, wrong payee, wrong amount, insufficient funds', async () => {
    const accepts = requirements('1000');
    const payment = await pay(accepts);
    const tampered = structuredClone(payment);
    (tampered.payload.authorization as Record<string, string>).nonce = `0x${'ab'.repeat(32)}`;
    assert.equal((await client.verify(tampered, accepts)).invalidReason, 'invalid_exact_evm_signature');
    assert.equal((await client.verify(payment, requirements('1000', payer.address))).invalidReason, 'invalid_exact_evm_recipient_mismatch');
    assert.equal((await client.verify(payment, requirements('999'))).invalidReason, 'invalid_exact_evm_payload_authorization_value_mismatch');
    const big = requirements('5000000');
    const tooMuch = await pay(big);
    assert.equal((await client.verify(tooMuch, big)).invalidReason, 'insufficient_funds');
    const failed = await client.settle(tooMuch, big).catch((e: { settleResponse?: unknown }) => e.settleResponse ?? e);
    assert.equal((failed as { success: boolean }).success, false);
  });

  test("Tollgate's FacilitatorClient gets HTTPFacilitatorClient's answers; a 400, a silent facilitator and a closed port throw", async () => {
    const ours = new FacilitatorClient({ url: `${server.url}/` });
    const accepts = requirements('2000');
    const payment = await pay(accepts);
    const tampered = structuredClone(payment);
    (tampered.payload.authorization as Record<string, string>).nonce = `0x${'cd'.repeat(32)}`;
    assert.deepEqual(await ours.verify(payment, accepts), await client.verify(payment, accepts));
    assert.deepEqual(await ours.verify(tampered, accepts), await client.verify(tampered, accepts));
    const settled = await ours.settle(payment, accepts);
    assert.equal(settled.success, true);
    assert.deepEqual(await client.settle(payment, accepts), settled);
    await assert.rejects(ours.verify(payment, { ...accepts, scheme: '' }), /answered 400/);
    const silent = await serveFetch(() => new Promise<Response>(() => {}));
    await assert.rejects(new FacilitatorClient({ url: silent.url, timeoutMs: 200 }).settle(payment, accepts), /no answer within 200 ms/);
    await silent.close();
    await assert.rejects(new FacilitatorClient({ url: silent.url }).verify(payment, accepts), /ECONNREFUSED/);
    ours.close();
  });

  test('a kept-alive connection the facilitator dropped is retried once on a new one; a request that reached it is not', async () => {
    const accepts = requirements('2000');
    const payment = await pay(accepts);
    // Answers each connection's first request; a second one on the same connection finds it closed,
    // as when a server's keep-alive timer fires just as the client reuses the connection.
    const seen: string[] = [];
    const dropper = createServer((request, response) => {
      const socket = request.socket as Socket & { served?: boolean };
      seen.push(socket.served ? 'dropped' : 'answered');
      if (socket.served) return socket.destroy();
      socket.served = true;
      response.setHeader('content-type', 'application/json').end(JSON.stringify({ isValid: true, payer: payer.address }));
    });
    await new Promise<void>((resolve) => dropper.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(dropper.address() as AddressInfo).port}`;
    const ours = new FacilitatorClient({ url });
    try {
      assert.equal((await ours.verify(payment, accepts)).isValid, true);
      assert.equal((await ours.verify(payment, accepts)).isValid, true, 'the dropped request was sent again');
      assert.deepEqual(seen, ['answered', 'dropped', 'answered']);
      // A fresh connection that fails is not a stale one: the error stands.
      const failing = createServer((request) => request.socket.destroy());
      await new Promise<void>((resolve) => failing.listen(0, '127.0.0.1', resolve));
      await assert.rejects(new FacilitatorClient({ url: `http://127.0.0.1:${(failing.address() as AddressInfo).port}` }).settle(payment, accepts), /socket hang up/);
      failing.close();
    } finally {
      ours.close();
      dropper.close();
    }
  });

  test('an expired authorization is refused', async () => {
    const accepts = requirements('1000');
    const payment = await pay(accepts);
    (payment.payload.authorization as Record<string, string>).validBefore = String(Math.floor(Date.now() / 1000) - 1);
    assert.equal((await client.verify(payment, accepts)).invalidReason, 'invalid_exact_evm_payload_authorization_valid_before');
  });

  test('malformed requests are 400 with invalid_payload, never 5xx', async () => {
    for (const body of ['not json', '{}', JSON.stringify({ paymentPayload: { x402Version: 2 } }), JSON.stringify({ paymentPayload: { x402Version: 7 }, paymentRequirements: {} })]) {
      const response = await fetch(`${server.url}/verify`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
      assert.equal(response.status, 400, body);
      const json = (await response.json()) as { isValid: boolean; invalidReason: string };
      assert.equal(json.isValid, false);
      assert.match(json.invalidReason, /^invalid_(payload|x402_version)$/);
    }
    const payment = await pay(requirements('1000'));
    const response = await fetch(`${server.url}/settle`, { method: 'POST', body: JSON.stringify({ x402Version: 2, paymentPayload: payment, paymentRequirements: { scheme: 'exact' } }) });
    assert.equal(response.status, 400);
  });
});
