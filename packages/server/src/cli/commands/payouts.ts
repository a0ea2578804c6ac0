/**
 * @module cli/commands/payouts
 * `tollgate payouts request | list | paid | failed`: seller payouts (see provider-api/payouts.ts).
 * Against a server (`--url`, `--api-key`: a seller key requests and lists its own, an admin key
 * marks paid or failed) or directly on the database with `--database`.
 */
import { defineCommand } from 'citty';
import { formatMicros, openDb, openTollgate } from '@tollgate/core';
import { Payouts, type Payout } from '../../provider-api/payouts.ts';
import { fail, printJson, printTable } from '../output.ts';
import { targetArgs, withTarget, type TargetArgs } from '../target.ts';

type Action = { kind: 'request'; sellerId?: string; amount: string; idempotencyKey?: string } | { kind: 'list'; sellerId?: string } | { kind: 'paid'; id: string; reference: string } | { kind: 'failed'; id: string; reason: string };

async function perform(args: TargetArgs, action: Action): Promise<unknown> {
  if (args.database) return onDatabase(args.database, action);
  return withTarget(args, (t) => {
    switch (action.kind) {
      case 'request': return t.request('POST', '/v1/provider/payouts', { amount: action.amount, ...(action.sellerId ? { sellerId: action.sellerId } : {}), ...(action.idempotencyKey ? { idempotencyKey: action.idempotencyKey } : {}) });
      case 'list': return t.request('GET', `/v1/provider/payouts${action.sellerId ? `?sellerId=${encodeURIComponent(action.sellerId)}` : ''}`);
      case 'paid': return t.request('POST', `/v1/provider/payouts/${encodeURIComponent(action.id)}/paid`, { reference: action.reference });
      case 'failed': return t.request('POST', `/v1/provider/payouts/${encodeURIComponent(action.id)}/failed`, { reason: action.reason });
    }
  });
}

async function onDatabase(url: string, action: Action): Promise<unknown> {
  const db = await openDb(url);
  const tg = await openTollgate({ db });
  try {
    const payouts = new Payouts(tg);
    switch (action.kind) {
      case 'request':
        if (!action.sellerId) throw new Error('--seller is required with --database');
        return await payouts.request(action.sellerId, action.amount, action.idempotencyKey);
      case 'list': return { items: await payouts.list(action.sellerId) };
      case 'paid': return await payouts.markPaid(action.id, action.reference);
      case 'failed': return await payouts.markFailed(action.id, action.reason);
    }
  } finally {
    await tg.close();
    await db.close();
  }
}

function show(args: TargetArgs, result: unknown): void {
  if (args.json) return printJson(result);
  const items = ((result as { items?: Payout[] }).items ?? [result]) as Record<string, unknown>[];
  printTable(items.map((p) => ({ ...p, amount: formatMicros(BigInt(String(p.amountMicros))) })), ['id', 'sellerId', 'amount', 'status', 'reference', 'createdAt']);
}

const request = defineCommand({
  meta: { name: 'request', description: 'Request a payout of earnings (held until paid or failed)' },
  args: { ...targetArgs, amount: { type: 'positional', required: true, description: 'Amount, e.g. 25.00' }, seller: { type: 'string', description: 'Seller id (admin key or --database)' }, key: { type: 'string', description: 'Idempotency key: a repeat returns the same payout' } },
  async run({ args }) {
    await perform(args, { kind: 'request', amount: args.amount, ...(args.seller ? { sellerId: args.seller } : {}), ...(args.key ? { idempotencyKey: args.key } : {}) }).then((r) => show(args, r), fail);
  },
});

const list = defineCommand({
  meta: { name: 'list', description: 'List payouts' },
  args: { ...targetArgs, seller: { type: 'string', description: 'Only this seller' } },
  async run({ args }) {
    await perform(args, { kind: 'list', ...(args.seller ? { sellerId: args.seller } : {}) }).then((r) => show(args, r), fail);
  },
});

const paid = defineCommand({
  meta: { name: 'paid', description: 'Mark a payout paid, with the rail reference (admin)' },
  args: { ...targetArgs, id: { type: 'positional', required: true }, reference: { type: 'positional', required: true } },
  async run({ args }) {
    await perform(args, { kind: 'paid', id: args.id, reference: args.reference }).then((r) => show(args, r), fail);
  },
});

const failed = defineCommand({
  meta: { name: 'failed', description: 'Mark a payout failed; the amount returns to earnings (admin)' },
  args: { ...targetArgs, id: { type: 'positional', required: true }, reason: { type: 'positional', required: true } },
  async run({ args }) {
    await perform(args, { kind: 'failed', id: args.id, reason: args.reason }).then((r) => show(args, r), fail);
  },
});

export const payouts = defineCommand({
  meta: { name: 'payouts', description: 'Seller payouts: request, list, paid, failed' },
  subCommands: { request, list, paid, failed },
});
