/**
 * @module cli/commands/wallet
 * `tollgate wallet topup | balance`.
 */
import { randomUUID } from 'node:crypto';
import { defineCommand } from 'citty';
import { formatMicros } from '@tollgate/core';
import { fail, printJson } from '../output.ts';
import { targetArgs, withTarget } from '../target.ts';

const topup = defineCommand({
  meta: { name: 'topup', description: 'Add funds to a user\'s or org\'s wallet' },
  args: {
    ...targetArgs,
    owner: { type: 'positional', description: 'User or org id', required: true },
    amount: { type: 'positional', description: 'Amount, e.g. 25.00', required: true },
    reference: { type: 'string', description: 'Your reference (a repeat is applied once); default: a new one' },
  },
  async run({ args }) {
    try {
      const result = await withTarget(args, (t) => t.request('POST', '/v1/wallets/top-ups', { ownerId: args.owner, amount: args.amount, reference: args.reference ?? `cli-${randomUUID()}` }));
      if (args.json) return printJson(result);
      process.stdout.write(`${result.applied ? 'added' : 'already applied'} ${args.amount}; available ${formatMicros(BigInt(result.balance.availableMicros))} ${result.balance.currency}\n`);
    } catch (error) {
      fail(error);
    }
  },
});

const balance = defineCommand({
  meta: { name: 'balance', description: 'Show a wallet\'s balance' },
  args: { ...targetArgs, owner: { type: 'positional', description: 'User or org id', required: true } },
  async run({ args }) {
    try {
      const b = await withTarget(args, (t) => t.request('GET', `/v1/wallets/${encodeURIComponent(args.owner)}`));
      if (args.json) return printJson(b);
      process.stdout.write(`available ${formatMicros(BigInt(b.availableMicros))} ${b.currency} (held ${formatMicros(BigInt(b.heldMicros))})\n`);
    } catch (error) {
      fail(error);
    }
  },
});

export const wallet = defineCommand({
  meta: { name: 'wallet', description: 'Wallets: topup, balance' },
  subCommands: { topup, balance },
});
