/**
 * @module cli/commands/grant
 * `tollgate grant create | list | revoke`.
 */
import { defineCommand } from 'citty';
import { fail, printJson, printTable } from '../output.ts';
import { queryString, targetArgs, withTarget } from '../target.ts';

const create = defineCommand({
  meta: { name: 'create', description: 'Create a grant (a scoped budget); prints its token once' },
  args: {
    ...targetArgs,
    user: { type: 'string', description: 'User id the grant spends for', required: true },
    cap: { type: 'string', description: 'Total cap, e.g. 5.00', required: true },
    'per-call': { type: 'string', description: 'Per-call cap' },
    services: { type: 'string', description: 'Comma-separated service patterns (default *)', default: '*' },
    agent: { type: 'string', description: 'Agent id' },
    task: { type: 'string', description: 'Task id' },
    expires: { type: 'string', description: 'Expiry (ISO 8601 with offset)' },
    'approve-above': { type: 'string', description: 'Ask a person again for any call priced above this' },
    test: { type: 'boolean', description: 'A test-mode token (tg_test_…)' },
  },
  async run({ args }) {
    try {
      const body = {
        userId: args.user,
        totalCap: args.cap,
        services: args.services.split(',').map((s) => s.trim()).filter(Boolean),
        ...(args['per-call'] ? { perCallCap: args['per-call'] } : {}),
        ...(args.agent ? { agentId: args.agent } : {}),
        ...(args.task ? { taskId: args.task } : {}),
        ...(args.expires ? { expiresAt: args.expires } : {}),
        ...(args['approve-above'] ? { reapproval: { priceAbove: args['approve-above'] } } : {}),
        ...(args.test ? { mode: 'test' } : {}),
      };
      const created = await withTarget(args, (t) => t.request('POST', '/v1/grants', body));
      if (args.json) return printJson(created);
      process.stdout.write(`grant ${created.grant.id} (cap ${args.cap}, services ${body.services.join(',')})\ntoken (shown once, store it now):\n  ${created.token}\n`);
    } catch (error) {
      fail(error);
    }
  },
});

const list = defineCommand({
  meta: { name: 'list', description: 'List grants with what they spent and have left' },
  args: { ...targetArgs, user: { type: 'string', description: 'Only this user' }, status: { type: 'string', description: 'active | revoked | expired | exhausted | scheduled' }, limit: { type: 'string', description: 'At most this many' } },
  async run({ args }) {
    try {
      const page = await withTarget(args, (t) => t.request('GET', `/v1/grants${queryString({ userId: args.user, status: args.status, limit: args.limit })}`));
      if (args.json) return printJson(page.items);
      printTable(page.items, ['id', 'status', 'userId', 'agentId', 'taskId', 'totalCapMicros', 'spentMicros', 'remainingMicros', 'tokenHint']);
    } catch (error) {
      fail(error);
    }
  },
});

const revoke = defineCommand({
  meta: { name: 'revoke', description: 'Revoke a grant (and its children); takes effect for the next call' },
  args: { ...targetArgs, id: { type: 'positional', description: 'Grant id', required: true }, reason: { type: 'string', description: 'Why' } },
  async run({ args }) {
    try {
      const result = await withTarget(args, (t) => t.request('POST', `/v1/grants/${encodeURIComponent(args.id)}/revoke`, args.reason ? { reason: args.reason } : {}));
      if (args.json) return printJson(result);
      process.stdout.write(`revoked: ${result.revoked.join(', ') || '(nothing)'}\n`);
    } catch (error) {
      fail(error);
    }
  },
});

export const grant = defineCommand({
  meta: { name: 'grant', description: 'Grants (scoped budgets): create, list, revoke' },
  subCommands: { create, list, revoke },
});
