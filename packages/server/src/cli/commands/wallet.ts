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

const deposit = defineCommand({
  meta: { name: 'deposit', description: 'Credit a wallet from an on-chain USDC transfer to the deposit address (verified on chain, each transaction once)' },
  args: {
    ...targetArgs,
    owner: { type: 'positional', description: 'User or org id', required: true },
    tx: { type: 'positional', description: 'Transaction hash of the transfer', required: true },
  },
  async run({ args }) {
    try {
      const result = await withTarget(args, (t) => t.request('POST', '/v1/deposits', { ownerId: args.owner, txHash: args.tx }));
      if (args.json) return printJson(result);
      process.stdout.write(`${result.applied ? 'credited' : 'already credited'} ${result.amount} from ${result.from}; available ${formatMicros(BigInt(result.balance.availableMicros))}\n`);
    } catch (error) {
      fail(error);
    }
  },
});

export const wallet = defineCommand({
  meta: { name: 'wallet', description: 'Wallets: topup, balance, deposit' },
  subCommands: { topup, balance, deposit },
});
