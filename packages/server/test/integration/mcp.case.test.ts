import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport, getDefaultEnvironment } from '@modelcontextprotocol/sdk/client/stdio.js';
import { CallToolResultSchema, ElicitRequestSchema, ToolListChangedNotificationSchema, type CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { assertTollgateHealthy, testDatabases } from '@tollgate/core/testing';
import type { Buyer, Gateway } from './harness.ts';
import { earningsMicros, mcpClient, startMcpGateway } from './mcp-harness.ts';

const EVERYTHING_PATH = fileURLToPath(new URL('../../../../node_modules/@modelcontextprotocol/server-everything/dist/index.js', import.meta.url));
const BIN_PATH = fileURLToPath(new URL('../../src/bin.ts', import.meta.url));

const call = (client: Client, name: string, args: Record<string, unknown>, meta: Record<string, unknown> = {}) =>
  client.request({ method: 'tools/call', params: { name, arguments: args, _meta: meta } }, CallToolResultSchema) as Promise<CallToolResult>;

for (const engine of testDatabases) {
  describe(`MCP gateway over Streamable HTTP on ${engine.kind}`, { skip: engine.skip }, () => {
    let gw: Gateway;
    let buyer: Buyer;
    let token: string;
    let client: Client;
    const wallet = async () => (await gw.tg.wallets.balance(buyer.userId)).availableMicros;

    before(async () => {
      gw = await startMcpGateway(engine);
      buyer = await gw.buyer();
      token = await gw.grant(buyer);
      client = await mcpClient(gw, token);
    });
    after(async () => {
      await client?.close();
      if (gw) await assertTollgateHealthy(gw.tg);
      await gw?.close();
    });

    test('no token or a bad token: 401 with WWW-Authenticate', async () => {
      const body = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-03-26', capabilities: {}, clientInfo: { name: 'x', version: '1' } } });
      const headers = { 'content-type': 'application/json', accept: 'application/json, text/event-stream' };
      const missing = await fetch(`${gw.url}/mcp`, { method: 'POST', headers, body });
      assert.equal(missing.status, 401);
      assert.match(missing.headers.get('www-authenticate') ?? '', /^Bearer .*invalid_token/);
      assert.equal(((await missing.json()) as { code: string }).code, 'token_invalid');
      const bad = await fetch(`${gw.url}/mcp`, { method: 'POST', headers: { ...headers, authorization: 'Bearer tg_live_nope' }, body });
      assert.equal(bad.status, 401);
      const challenge = bad.headers.get('www-authenticate') ?? '';
      const metadataUrl = challenge.match(/resource_metadata="([^"]+)"/)?.[1];
      assert.ok(metadataUrl, `the challenge points at the resource metadata: ${challenge}`);
      const metadata = (await (await fetch(metadataUrl)).json()) as { resource: string; bearer_methods_supported: string[] };
      assert.equal(metadata.resource, `${gw.url}/mcp`);
      assert.deepEqual(metadata.bearer_methods_supported, ['header']);
    });

    test('tools/list: own tools and the upstream tools, namespaced, schemas unchanged, priced', async () => {
      const { tools } = await client.listTools();
      const names = tools.map((t) => t.name);
      for (const own of ['setup', 'check_budget', 'list_services', 'call_service', 'approval_status']) assert.ok(names.includes(own), own);
      const echo = tools.find((t) => t.name === 'demo__echo')!;
      assert.deepEqual(echo.inputSchema.required, ['text']);
      assert.deepEqual(echo._meta?.['io.tollgate/price'], { type: 'fixed', amount: '0.01', service: 'demo' });
      const words = tools.find((t) => t.name === 'demo__count_words')!;
      assert.equal((words._meta?.['io.tollgate/price'] as { unitPrice: string }).unitPrice, '0.001');
    });

    test('a paid tool call is charged once, credits the seller, and a retry replays', async () => {
      const walletBefore = await wallet();
      const earnedBefore = await earningsMicros(gw);
      const first = await call(client, 'demo__echo', { text: 'hello' }, { 'io.tollgate/idempotencyKey': 'echo-1', 'io.tollgate/reason': 'testing' });
      assert.equal(first.isError, undefined);
      assert.deepEqual(first.content, [{ type: 'text', text: 'hello' }]);
      assert.equal(first._meta?.['io.tollgate/charge'], '0.01');
      assert.equal(first._meta?.['io.tollgate/remaining'], '9.99');
      assert.match(String(first._meta?.['io.tollgate/callId']), /^call_/);
      const again = await call(client, 'demo__echo', { text: 'hello' }, { 'io.tollgate/idempotencyKey': 'echo-1' });
      assert.equal(again._meta?.['io.tollgate/replayed'], true);
      assert.equal(again._meta?.['io.tollgate/callId'], first._meta?.['io.tollgate/callId']);
      assert.deepEqual(again.content, first.content);
      assert.equal(await wallet(), walletBefore - 10_000n, 'charged once');
      assert.ok((await earningsMicros(gw)) > earnedBefore, 'the seller earned');
      const conflict = await call(client, 'demo__echo', { text: 'other' }, { 'io.tollgate/idempotencyKey': 'echo-1' });
      assert.equal(conflict.isError, true);
      assert.equal((conflict.structuredContent as { code: string }).code, 'idempotency_conflict');
      const metrics = await (await fetch(`${gw.url}/metrics`)).text();
      assert.match(metrics, /tollgate_mcp_tool_calls_total\{service="demo",outcome="ok"\} [1-9]/);
      assert.match(metrics, /tollgate_mcp_tool_calls_total\{service="demo",outcome="refused"\} [1-9]/);
      assert.match(metrics, /tollgate_mcp_tool_duration_seconds_count\{service="demo"\} [1-9]/);
    });

    test('usage-priced tool: units from structuredContent', async () => {
      const before = await wallet();
      const result = await call(client, 'demo__count_words', { text: 'one two three four' });
      assert.equal(result._meta?.['io.tollgate/charge'], '0.004');
      assert.equal(await wallet(), before - 4_000n);
    });

    test('isError passes through unchanged and is not charged, unless the service charges failures', async () => {
      const before = await wallet();
      const failed = await call(client, 'demo__fail', { why: 'nope' });
      assert.equal(failed.isError, true);
      assert.deepEqual(failed.content, [{ type: 'text', text: 'failed: nope' }]);
      assert.equal(failed._meta?.['io.tollgate/charge'], '0.00');
      assert.equal(await wallet(), before);
      const charged = await call(client, 'lenient__fail', {});
      assert.equal(charged.isError, true);
      assert.equal(charged._meta?.['io.tollgate/charge'], '0.01');
      assert.equal(await wallet(), before - 10_000n);
    });

    test('refusals are tool errors with the HTTP codes, logged as usage, not charged', async () => {
      const narrow = await gw.grant(buyer, { services: ['lenient'] });
      const other = await mcpClient(gw, narrow);
      try {
        const before = await wallet();
        const refused = await call(other, 'demo__echo', { text: 'x' });
        assert.equal(refused.isError, true);
        const problem = refused.structuredContent as { code: string; status: number };
        assert.ok(['policy_denied', 'forbidden', 'service_not_allowed'].includes(problem.code) || problem.status === 403, JSON.stringify(problem));
        assert.equal(JSON.parse((refused.content[0] as { text: string }).text).code, problem.code);
        const unknown = await call(other, 'nosuch__tool', {});
        assert.equal((unknown.structuredContent as { code: string }).code, 'not_found');
        assert.equal(await wallet(), before);
        await eventuallyTrue(async () => {
          const rows = await gw.db.query<{ status: string; code: string; charge_micros: bigint }>(`SELECT status, code, charge_micros FROM usage_events WHERE service = 'demo' AND status = 'refused'`);
          return rows.some((r) => r.code === problem.code && BigInt(r.charge_micros) === 0n);
        });
      } finally {
        await other.close();
      }
    });

    test('progress is forwarded, and cancelling mid-call voids the hold', async () => {
      const before = await wallet();
      const progress: number[] = [];
      const done = await client.callTool({ name: 'demo__slow', arguments: { steps: 2, stepMs: 20 } }, undefined, { onprogress: (p) => progress.push(p.progress) });
      assert.equal(progress[0], 1, 'progress reached the client under its own token');
      assert.equal(done._meta?.['io.tollgate/charge'], '0.01');
      const controller = new AbortController();
      const pending = client.callTool({ name: 'demo__slow', arguments: { steps: 50, stepMs: 40 } }, undefined, {
        signal: controller.signal,
        onprogress: () => controller.abort('enough'),
      });
      await assert.rejects(pending);
      await eventuallyTrue(async () => {
        const rows = await gw.db.query<{ status: string }>(`SELECT status FROM usage_events WHERE tool = 'slow' ORDER BY id DESC LIMIT 1`);
        return rows[0]?.status === 'cancelled';
      });
      assert.equal(await wallet(), before - 10_000n, 'only the finished call was charged');
    });

    test('an upstream timeout voids', async () => {
      const before = await wallet();
      const result = await call(client, 'lenient__slow', { steps: 1, stepMs: 2_000 });
      assert.equal(result.isError, true);
      assert.equal((result.structuredContent as { code: string }).code, 'upstream_failed');
      assert.equal(await wallet(), before);
    });

    test('approvals by elicitation: accept once, accept for the task, decline; recorded as decisions', async () => {
      const asker = await gw.buyer();
      await gw.tg.policies.setOrgPolicy(asker.orgId, { triggers: { priceAbove: { enabled: true, threshold: '0.005' } } });
      const askToken = await gw.grant(asker);
      const balance = async () => (await gw.tg.wallets.balance(asker.userId)).availableMicros;
      const questions: string[] = [];
      let answer: 'approve_once' | 'approve_task' | 'deny' | 'decline' | 'cancel' = 'approve_once';
      const eliciting = await mcpClient(gw, askToken, (message) => {
        questions.push(message);
        if (answer === 'decline' || answer === 'cancel') return { action: answer };
        return { action: 'accept', content: { decision: answer } };
      });
      try {
        const start = await balance();
        const ok = await call(eliciting, 'demo__echo', { text: 'a' }, { 'io.tollgate/reason': 'need the echo', 'io.tollgate/task': 't1' });
        assert.equal(ok.isError, undefined, JSON.stringify(ok));
        assert.match(questions[0]!, /0\.01 for demo \/ echo/);
        assert.match(questions[0]!, /need the echo/);
        assert.equal(await balance(), start - 10_000n);
        const [approved] = (await gw.tg.approvals.list({ orgId: asker.orgId })).items.filter((a) => a.state !== 'pending');
        assert.ok(approved && approved.decidedBy === 'mcp:elicitation');

        answer = 'decline';
        const declined = await call(eliciting, 'demo__echo', { text: 'b' }, { 'io.tollgate/task': 't1' });
        assert.equal((declined.structuredContent as { code: string }).code, 'approval_denied');
        answer = 'deny';
        const denied = await call(eliciting, 'demo__echo', { text: 'c' }, { 'io.tollgate/task': 't1' });
        assert.equal((denied.structuredContent as { code: string }).code, 'approval_denied');
        const states = (await gw.tg.approvals.list({ orgId: asker.orgId })).items.map((a) => a.state).sort();
        assert.deepEqual(states, ['approved', 'denied', 'denied']);
        assert.equal(await balance(), start - 10_000n, 'declined calls are not charged');

        answer = 'cancel';
        const dismissed = await call(eliciting, 'demo__echo', { text: 'e' }, { 'io.tollgate/task': 't1' });
        const parked = dismissed.structuredContent as { code: string; approvalId: string };
        assert.equal(parked.code, 'approval_required', 'a dismissed question leaves the approval pending');
        assert.equal((await gw.tg.approvals.get(parked.approvalId)).state, 'pending');

        answer = 'approve_task';
        const forTask = await call(eliciting, 'demo__echo', { text: 'd' }, { 'io.tollgate/task': 't2' });
        assert.equal(forTask.isError, undefined, JSON.stringify(forTask));
        assert.equal((await gw.tg.approvals.list({ orgId: asker.orgId })).items.find((a) => a.taskId === 't2')?.scope, 'task');
        const asked = questions.length;
        const sameTask = await call(eliciting, 'demo__echo', { text: 'f' }, { 'io.tollgate/task': 't2' });
        assert.equal(sameTask.isError, undefined, JSON.stringify(sameTask));
        assert.equal(questions.length, asked, 'approved for the task: the next call in it is not asked again');
      } finally {
        await eliciting.close();
      }
    });

    test('a client that cannot elicit gets approval_required, checks approval_status, retries with the id', async () => {
      const asker = await gw.buyer();
      await gw.tg.policies.setOrgPolicy(asker.orgId, { triggers: { priceAbove: { enabled: true, threshold: '0.005' } } });
      const plain = await mcpClient(gw, await gw.grant(asker));
      try {
        const parked = await call(plain, 'demo__echo', { text: 'x' }, { 'io.tollgate/idempotencyKey': 'ask-1' });
        assert.equal(parked.isError, true);
        const problem = parked.structuredContent as { code: string; approvalId: string; decideUrl: string };
        assert.equal(problem.code, 'approval_required');
        assert.match(problem.decideUrl, new RegExp(problem.approvalId));
        const pending = await call(plain, 'approval_status', { approvalId: problem.approvalId });
        assert.equal((pending.structuredContent as { state: string }).state, 'pending');
        await gw.tg.approvals.decide(problem.approvalId, { decision: 'approve', decidedBy: 'ada' });
        const approved = await call(plain, 'approval_status', { approvalId: problem.approvalId });
        assert.equal((approved.structuredContent as { state: string }).state, 'approved');
        const retried = await call(plain, 'demo__echo', { text: 'x' }, { 'io.tollgate/idempotencyKey': 'ask-1', 'io.tollgate/approvalId': problem.approvalId });
        assert.equal(retried.isError, undefined, JSON.stringify(retried));
        assert.equal(retried._meta?.['io.tollgate/charge'], '0.01');
      } finally {
        await plain.close();
      }
    });

    test('stdio: `tollgate mcp` bridges to the server; paid call, replay and an elicited approval', async () => {
      const asker = await gw.buyer();
      await gw.tg.policies.setOrgPolicy(asker.orgId, { triggers: { priceAbove: { enabled: true, threshold: '0.015' } } });
      const stdio = new Client({ name: 'stdio-agent', version: '1.0.0' }, { capabilities: { elicitation: {} } });
      stdio.setRequestHandler(ElicitRequestSchema, async () => ({ action: 'accept', content: { decision: 'approve_once' } }));
      await stdio.connect(new StdioClientTransport({
        command: process.execPath,
        args: ['--import', 'tsx', BIN_PATH, 'mcp'],
        env: { ...getDefaultEnvironment(), TOLLGATE_URL: gw.url, TOLLGATE_TOKEN: await gw.grant(asker) },
        stderr: 'ignore',
      }));
      try {
        const balance = async () => (await gw.tg.wallets.balance(asker.userId)).availableMicros;
        const start = await balance();
        const names = (await stdio.listTools()).tools.map((t) => t.name);
        assert.ok(names.includes('demo__echo') && names.includes('setup'));
        const first = await call(stdio, 'demo__echo', { text: 'via stdio' }, { 'io.tollgate/idempotencyKey': 'stdio-1' });
        assert.equal(first._meta?.['io.tollgate/charge'], '0.01');
        const again = await call(stdio, 'demo__echo', { text: 'via stdio' }, { 'io.tollgate/idempotencyKey': 'stdio-1' });
        assert.equal(again._meta?.['io.tollgate/replayed'], true);
        const asked = await call(stdio, 'demo__count_words', { text: 'a b c' });
        assert.equal(asked.isError, undefined, JSON.stringify(asked));
        assert.equal(asked._meta?.['io.tollgate/charge'], '0.003');
        assert.equal(await balance(), start - 13_000n);
      } finally {
        await stdio.close();
      }
    });

    test('@modelcontextprotocol/server-everything as an upstream: schemas unchanged, charged, progress', async () => {
      await gw.built.services.create({ slug: 'everything', kind: 'mcp', mcp: { command: [process.execPath, EVERYTHING_PATH, 'stdio'] }, sellerId: 'sel_everything', prices: [{ type: 'fixed', price: '0.005' }] });
      const direct = new Client({ name: 'direct', version: '1' });
      await direct.connect(new StdioClientTransport({ command: process.execPath, args: [EVERYTHING_PATH, 'stdio'], stderr: 'ignore' }));
      try {
        const upstreamSum = (await direct.listTools()).tools.find((t) => t.name === 'get-sum')!;
        const viaGateway = (await client.listTools()).tools.find((t) => t.name === 'everything__get-sum')!;
        assert.deepEqual(viaGateway.inputSchema, upstreamSum.inputSchema, 'the schema passes through unchanged');
        const before = await wallet();
        const sum = await call(client, 'everything__get-sum', { a: 2, b: 3 });
        assert.match(JSON.stringify(sum.content), /5/);
        assert.equal(sum._meta?.['io.tollgate/charge'], '0.005');
        const progress: number[] = [];
        const long = await client.callTool({ name: 'everything__trigger-long-running-operation', arguments: { duration: 0.3, steps: 3 } }, undefined, { onprogress: (p) => progress.push(p.progress) });
        assert.equal(long.isError, undefined);
        assert.ok(progress.length >= 2, `progress forwarded: ${JSON.stringify(progress)}`);
        assert.equal(await wallet(), before - 10_000n);
      } finally {
        await direct.close();
      }
    });

    test('an upstream that changes its tools: list_changed reaches the agent, and the new tool is listed', async () => {
      let changed = 0;
      client.setNotificationHandler(ToolListChangedNotificationSchema, async () => {
        changed++;
      });
      const added = await call(client, 'demo__add_tool', { name: 'fresh' });
      assert.equal(added.isError, undefined);
      await eventuallyTrue(async () => changed > 0);
      const names = (await client.listTools()).tools.map((t) => t.name);
      assert.ok(names.includes('demo__fresh'), names.join(' '));
    });

    test('own tools: setup, check_budget, list_services, call_service, approval_status', async () => {
      const setup = await call(client, 'setup', {});
      assert.equal((setup.structuredContent as { valid: boolean }).valid, true);
      const budget = await call(client, 'check_budget', {});
      assert.match(String((budget.structuredContent as { remaining: string }).remaining), /^\d+\.\d+$/);
      await call(client, 'demo__echo', { text: 'task' }, { 'io.tollgate/task': 'budget-task' });
      const inTask = await call(client, 'check_budget', { task: 'budget-task' });
      assert.deepEqual((inTask.structuredContent as { task: unknown }).task, { id: 'budget-task', spent: '0.01' });
      const org = await gw.tg.principals.createOrg({ name: 'Limited', monthlyLimit: '50.00' });
      const user = await gw.tg.principals.createUser({ orgId: org.id, name: 'Lin', monthlyLimit: '5.00' });
      await gw.tg.wallets.topUp({ ownerId: user.id, amount: '20.00', reference: `limited-${user.id}` });
      const limited = await mcpClient(gw, (await gw.tg.grants.create({ userId: user.id, totalCap: '1.00', services: ['*'] })).token);
      try {
        await call(limited, 'demo__echo', { text: 'x' });
        const limits = (await call(limited, 'check_budget', {})).structuredContent as { monthlyLimits: unknown; wallet: { available: string } };
        assert.deepEqual(limits.monthlyLimits, [{ kind: 'user_monthly', cap: '5.00', remaining: '4.99' }, { kind: 'org_monthly', cap: '50.00', remaining: '49.99' }]);
        assert.equal(limits.wallet.available, '19.99');
      } finally {
        await limited.close();
      }
      const listed = await call(client, 'list_services', {});
      const slugs = (listed.structuredContent as { services: { slug: string }[] }).services.map((s) => s.slug);
      assert.ok(slugs.includes('demo') && slugs.includes('up'));
      const before = await wallet();
      const http = await call(client, 'call_service', { service: 'up', path: '/fixed', idempotencyKey: 'http-1' });
      assert.equal(http.isError, undefined, JSON.stringify(http));
      assert.equal(http._meta?.['io.tollgate/charge'], '0.01');
      assert.equal(await wallet(), before - 10_000n);
      await eventuallyTrue(async () => {
        const rows = await gw.db.query<{ principal_id: string; charge_micros: bigint }>(`SELECT principal_id, charge_micros FROM usage_events WHERE edge = 'http' AND service = 'up' AND status = 'ok'`);
        return rows.some((r) => r.principal_id === buyer.userId && BigInt(r.charge_micros) === 10_000n);
      });
      const missing = await call(client, 'approval_status', { approvalId: 'apr_nope' });
      assert.equal((missing.structuredContent as { code: string }).code, 'not_found');
    });
  });
}

async function eventuallyTrue(check: () => Promise<boolean>, timeoutMs = 3_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) assert.fail('condition not met in time');
    await new Promise((r) => setTimeout(r, 25));
  }
}
