/**
 * @module cli/commands/approvals
 * `tollgate approvals list | approve | deny`.
 */
import { defineCommand } from 'citty';
import { fail, printJson, printTable } from '../output.ts';
import { queryString, targetArgs, withTarget } from '../target.ts';

const list = defineCommand({
  meta: { name: 'list', description: 'List approvals (pending by default)' },
  args: { ...targetArgs, state: { type: 'string', description: 'pending | approved | denied | expired | all', default: 'pending' }, user: { type: 'string', description: 'Only this user' } },
  async run({ args }) {
    try {
      const page = await withTarget(args, (t) => t.request('GET', `/v1/approvals${queryString({ state: args.state === 'all' ? undefined : args.state, userId: args.user })}`));
      if (args.json) return printJson(page.items);
      printTable(page.items, ['id', 'state', 'service', 'tool', 'priceMicros', 'agentId', 'taskId', 'explanation']);
    } catch (error) {
      fail(error);
    }
  },
});

function decide(decision: 'approve' | 'deny') {
  return defineCommand({
    meta: { name: decision, description: decision === 'approve' ? 'Approve a parked call (the agent retries with the approval id)' : 'Deny a parked call' },
    args: {
      ...targetArgs,
      id: { type: 'positional', description: 'Approval id', required: true },
      note: { type: 'string', description: 'A note for the record' },
      by: { type: 'string', description: 'Who decided (default: the key)' },
      ...(decision === 'approve' ? { scope: { type: 'string', description: 'call | task | raise_cap' }, raise: { type: 'string', description: 'For raise_cap: amount to raise the grant by' } } : {}),
    },
    async run({ args }) {
      try {
        const a = args as Record<string, string | undefined>;
        const body = { ...(a.note ? { note: a.note } : {}), ...(a.by ? { decidedBy: a.by } : {}), ...(a.scope ? { scope: a.scope } : {}), ...(a.raise ? { raise: a.raise } : {}) };
        const approval = await withTarget(args, (t) => t.request('POST', `/v1/approvals/${encodeURIComponent(String(args.id))}/${decision}`, body));
        if (args.json) return printJson(approval);
        process.stdout.write(`approval ${approval.id}: ${approval.state}${approval.state === 'approved' ? ` (the agent retries with X-Tollgate-Approval: ${approval.id})` : ''}\n`);
      } catch (error) {
        fail(error);
      }
    },
  });
}

export const approvals = defineCommand({
  meta: { name: 'approvals', description: 'Approvals: list, approve, deny' },
  subCommands: { list, approve: decide('approve'), deny: decide('deny') },
});
