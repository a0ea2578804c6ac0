/**
 * @module cli/commands/panic
 * `tollgate panic <userId>`: revoke every grant of a user at once.
 */
import { defineCommand } from 'citty';
import { fail, printJson } from '../output.ts';
import { targetArgs, withTarget } from '../target.ts';

export const panic = defineCommand({
  meta: { name: 'panic', description: 'Revoke every grant of a user at once' },
  args: { ...targetArgs, user: { type: 'positional', description: 'User id', required: true } },
  async run({ args }) {
    try {
      const result = await withTarget(args, (t) => t.request('POST', `/v1/users/${encodeURIComponent(args.user)}/panic`, {}));
      if (args.json) return printJson(result);
      process.stdout.write(`revoked ${result.revoked.length} grant(s)${result.revoked.length ? `: ${result.revoked.join(', ')}` : ''}\n`);
    } catch (error) {
      fail(error);
    }
  },
});
