/**
 * The dashboard in a real browser (Debian's chromium through playwright-core) against a real server
 * over sockets: sign in (an API key, then the demo's one click), create a grant (form errors from the
 * client and from the server's problem+json), a paid call made with the client SDK appears in the
 * live feed, a call that needs approval is approved in the page and then goes through, a call's audit
 * page explains it and verifies the chain, revoke and panic stop the next call. A screenshot of each
 * page is saved under packages/dashboard/test-output/screenshots.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { assertTollgateHealthy } from '@tollgate/core/testing';
import { callInfo, createTollgateFetch, TollgateClientError } from '@tollgate/client';
import { browserSkip, launchBrowser, startDashboardServer, type Browser, type DashboardServer } from './harness.ts';

const skip = browserSkip();
if (skip) console.log(`# ${skip}`);

async function refusedWith(promise: Promise<unknown>, code: string): Promise<void> {
  await assert.rejects(promise, (error: unknown) => error instanceof TollgateClientError && error.code === code);
}

describe('dashboard in chromium', { skip }, () => {
  let server: DashboardServer;
  let browser: Browser;
  let token = '';
  let grantId = '';
  let approvedCallId = '';

  before(async () => {
    server = await startDashboardServer();
    browser = await launchBrowser();
  });
  after(async () => {
    await browser?.close();
    await server?.close();
  });

  test('sign in: a bad key is refused next to the field; a buyer key sees no seller page, a seller key only it; the demo signs in as admin from this machine', async () => {
    const { page } = browser;
    await page.goto(server.url);
    await page.getByRole('heading', { name: 'Sign in' }).waitFor();
    await browser.shot('sign-in');
    await page.getByLabel('API key').fill('tg_ak_live_not_a_real_key_at_all_000000');
    await page.getByRole('button', { name: 'Sign in', exact: true }).click();
    await page.getByRole('alert').filter({ hasText: 'The API key is not valid' }).waitFor();

    const buyer = await server.built.apiKeys.create({ name: 'e2e buyer', role: 'buyer', orgId: server.demo.orgId });
    await page.getByLabel('API key').fill(buyer.secret);
    await page.getByRole('button', { name: 'Sign in', exact: true }).click();
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Grants' }).waitFor();
    assert.equal(await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Seller' }).count(), 0, 'a buyer key does not see the seller page');
    assert.equal((await page.content()).includes(buyer.secret), false, 'the key is never rendered');
    await page.getByRole('button', { name: 'Sign out' }).click();

    const seller = await server.built.apiKeys.create({ name: 'e2e seller', role: 'seller', sellerId: server.demo.sellerId });
    await page.getByLabel('API key').fill(seller.secret);
    await page.getByRole('button', { name: 'Sign in', exact: true }).click();
    await page.getByRole('heading', { name: 'Services and prices' }).waitFor();
    const links = await page.getByRole('navigation', { name: 'Main' }).getByRole('link').allInnerTexts();
    assert.deepEqual(links.map((l) => l.trim()), ['Seller'], 'a seller key sees only the seller page');
    await page.getByRole('button', { name: 'Sign out' }).click();

    await page.getByRole('button', { name: 'Open the demo as administrator' }).click();
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Seller' }).waitFor();
    assert.equal((await page.content()).includes(server.demo.adminKey), false, 'the demo key is not rendered');
  });

  test('create a grant: client and server errors next to their fields, the token shown once with a copy button', async () => {
    const { page } = browser;
    await page.goto(`${server.url}/#/grants`);
    await page.getByRole('button', { name: 'New grant' }).click();
    const form = page.getByRole('form', { name: 'New grant' });
    await form.getByLabel('Total cap', { exact: true }).fill('a lot');
    await form.getByRole('button', { name: 'Create grant' }).click();
    await form.getByText('A decimal amount such as 25.00').waitFor();

    await form.getByLabel('Total cap', { exact: true }).fill('5.00');
    await form.getByLabel('Services', { exact: true }).fill('Not A Pattern!');
    await form.getByRole('button', { name: 'Create grant' }).click();
    // The server's problem+json names services.0; the page shows its message under the field.
    const servicesError = form.locator('.field', { has: page.getByLabel('Services', { exact: true }) }).locator('.error');
    await servicesError.waitFor();
    assert.match(await servicesError.innerText(), /pattern/);
    await browser.shot('grant-form');
    // Every control of the form has a label (screen readers name it; a click on the label focuses it).
    const unlabelled = await form.locator('input, select, textarea').evaluateAll((els) => els.filter((el) => (el as HTMLInputElement).labels?.length === 0 && !el.getAttribute('aria-label')).map((el) => el.outerHTML));
    assert.deepEqual(unlabelled, []);
    assert.equal(await form.getByLabel('Services', { exact: true }).getAttribute('aria-invalid'), 'true');

    await form.getByLabel('Services', { exact: true }).fill('search, research');
    await form.getByLabel('Agent id', { exact: true }).fill(server.demo.agentId);
    await form.getByLabel('Task id', { exact: true }).fill('e2e-task');
    await form.getByLabel('Per-call cap', { exact: true }).fill('3.00');
    await form.getByLabel('A call costs more than', { exact: true }).fill('1.00');
    await form.getByLabel('Tag', { exact: true }).fill('e2e');
    await form.getByRole('button', { name: 'Create grant' }).click();
    const secret = page.getByTestId('secret');
    await secret.waitFor();
    token = (await secret.innerText()).trim();
    assert.match(token, /^tg_live_/);
    await page.getByRole('button', { name: 'Copy' }).waitFor();
    await page.getByRole('button', { name: /I have stored it/ }).click();
    await page.locator('[data-grant-id]').first().waitFor();
    assert.equal((await page.content()).includes(token), false, 'the token is gone once dismissed');
    grantId = (await server.tg.grants.list({ tag: 'e2e' }))[0]!.id;
    await page.locator(`[data-grant-id="${grantId}"]`).waitFor();
    // An agent delegates part of its budget; the tree shows the child under its parent.
    const child = await server.tg.grants.delegate(token, { totalCap: '1.00', tag: 'e2e-child', services: ['search'] });
    await page.reload();
    await page.locator(`[data-grant-id="${grantId}"] [data-grant-id="${child.grant.id}"]`).waitFor();
  });

  test('a paid call made with the client SDK appears in the live feed', async () => {
    const { page } = browser;
    await page.goto(`${server.url}/#/overview`);
    await page.getByText('Live', { exact: true }).waitFor();
    const pay = createTollgateFetch({ token, baseUrl: server.url, task: 'e2e-task' });
    const res = await pay('/proxy/search/search?q=e2e', { reason: 'find sources' });
    assert.equal(res.status, 200);
    await res.arrayBuffer();
    const { callId } = callInfo(res);
    assert.ok(callId);
    await page.locator(`[data-testid="live-feed"] li[data-call-id="${callId}"][data-outcome="captured"]`).waitFor();
    await page.waitForTimeout(2500); // let the figures refresh after the new spend
    await browser.shot('overview');
  });

  test('a call that needs approval waits in the queue, is approved in the page, then goes through', async () => {
    const { page } = browser;
    await page.goto(`${server.url}/#/approvals`);
    await page.getByRole('heading', { name: 'Approvals', level: 1 }).waitFor();
    const pay = createTollgateFetch({ token, baseUrl: server.url, task: 'e2e-task', waitForApproval: { timeoutMs: 60_000 } });
    const waiting = pay('/proxy/research/research', { method: 'POST', reason: 'deep dive for the e2e report' });
    const card = page.locator('[data-approval-id]').first();
    await card.waitFor();
    assert.match(await card.innerText(), /deep dive for the e2e report/);
    assert.equal(await page.getByTestId('approval-count').innerText(), '1');
    await browser.shot('approvals');
    // By keyboard: focus the button and press Enter.
    await card.getByRole('button', { name: 'Approve once' }).focus();
    await page.keyboard.press('Enter');
    const res = await waiting;
    assert.equal(res.status, 200);
    await res.arrayBuffer();
    const info = callInfo(res);
    assert.equal(info.charge, '2.50');
    approvedCallId = info.callId!;
    await page.locator('[data-approval-id]').waitFor({ state: 'detached' });
    assert.equal(await page.getByTestId('approval-count').count(), 0);

    // Denied in the page: the waiting client gets approval_denied, and nothing is charged.
    // The refusal is awaited at once, so its rejection is handled whenever it arrives.
    const denied = refusedWith(pay('/proxy/research/research', { method: 'POST', reason: 'one more deep dive', idempotencyKey: 'e2e-deny-1' }), 'approval_denied');
    const second = page.locator('[data-approval-id]').first();
    await second.waitFor();
    await second.getByRole('button', { name: 'Deny' }).click();
    await denied;
    await page.getByRole('cell', { name: /denied/ }).first().waitFor();
  });

  test("a call's audit page shows its explanation, the approval, the ledger movements and a verified chain", async () => {
    const { page } = browser;
    await page.goto(`${server.url}/#/calls/${approvedCallId}`);
    const explanation = page.getByTestId('explanation');
    await explanation.filter({ hasText: approvedCallId }).waitFor();
    assert.match(await explanation.innerText(), /2\.50/);
    await page.locator('[data-testid="chain-status"][data-ok="true"]').waitFor();
    await page.getByTestId('ledger-movements').waitFor();
    await page.getByText('Every record of this call').waitFor();
    await browser.shot('call');

    await page.goto(`${server.url}/#/audit?taskId=e2e-task`);
    await page.locator(`[data-testid="audit-table"] tr[data-call-id="${approvedCallId}"]`).first().waitFor();
    await browser.shot('audit');
    for (const [button, extension] of [['Export CSV', 'csv'], ['Export JSON Lines', 'jsonl']] as const) {
      const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: button }).click()]);
      assert.equal(download.suggestedFilename(), `tollgate-calls.${extension}`);
      const text = readFileSync((await download.path())!, 'utf8');
      assert.ok(text.includes(approvedCallId), `${extension} export holds the call`);
      // Exactly the task's records (CSV adds a header line).
      const records = (await server.tg.audit.query({ taskId: 'e2e-task' })).records.length;
      const lines = text.trim().split(/\r?\n/);
      assert.equal(lines.length, extension === 'csv' ? records + 1 : records, text);
    }
  });

  test('wallet and seller pages render their data', async () => {
    const { page } = browser;
    await page.goto(`${server.url}/#/wallet`);
    await page.getByRole('heading', { name: 'Transactions' }).waitFor();
    await page.getByText('Call charge', { exact: false }).first().waitFor();
    await browser.shot('wallet');
    await page.goto(`${server.url}/#/seller`);
    await page.getByRole('cell', { name: /^research/ }).first().waitFor();
    await browser.shot('seller');
  });

  test('revoke in the page: the grant and its delegation stop, the next call is refused', async () => {
    const { page } = browser;
    await page.goto(`${server.url}/#/grants`);
    await page.getByRole('button', { name: `Revoke grant ${grantId}` }).click();
    await page.getByRole('alertdialog').getByRole('button', { name: 'Revoke grant' }).click();
    await page.getByRole('status').filter({ hasText: 'Revoked 2 grants' }).waitFor();
    const pay = createTollgateFetch({ token, baseUrl: server.url, retries: 0 });
    await refusedWith(pay('/proxy/search/search?q=after-revoke'), 'grant_revoked');
  });

  test('panic after a confirmation: every grant of the user stops', async () => {
    const { page } = browser;
    const other = await server.tg.grants.create({ userId: server.demo.userId, totalCap: '1.00', services: ['*'], tag: 'e2e-panic' });
    await page.goto(`${server.url}/#/grants`);
    await page.reload(); // the list was loaded before this grant existed
    await page.locator(`[data-grant-id="${other.grant.id}"]`).waitFor();
    await page.getByLabel('User', { exact: true }).selectOption(server.demo.userId);
    await page.getByRole('button', { name: /Panic/ }).click();
    const dialog = page.getByRole('alertdialog');
    await dialog.getByText('cannot be undone').waitFor();
    await dialog.getByRole('button', { name: 'Yes, revoke everything' }).click();
    await page.getByRole('status').filter({ hasText: 'Panic: revoked' }).waitFor();
    const pay = createTollgateFetch({ token: other.token, baseUrl: server.url, retries: 0 });
    await refusedWith(pay('/proxy/search/search?q=after-panic'), 'grant_revoked');
    await page.getByLabel('Show revoked and expired').check();
    await page.locator(`[data-grant-id="${other.grant.id}"]`).waitFor();
    await browser.shot('grants');
    assert.equal((await server.tg.grants.list({ userId: server.demo.userId, status: 'active' })).length, 0);
    await assertTollgateHealthy(server.tg);
  });
});
