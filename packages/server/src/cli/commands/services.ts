/**
 * @module cli/commands/services
 * `tollgate services add | list`.
 */
import { readFileSync } from 'node:fs';
import { defineCommand } from 'citty';
import { TollgateError } from '@tollgate/core';
import { fail, printJson, printTable } from '../output.ts';
import { targetArgs, withTarget } from '../target.ts';

const add = defineCommand({
  meta: { name: 'add', description: 'Register a paid HTTP service (or pass --file with the full JSON)' },
  args: {
    ...targetArgs,
    slug: { type: 'positional', description: 'URL-safe name, e.g. search', required: false },
    url: { type: 'string', description: 'Upstream base URL (note: --url names the Tollgate server)' },
    upstream: { type: 'string', description: 'Upstream base URL' },
    price: { type: 'string', description: 'Fixed price per call for every route, e.g. 0.01' },
    seller: { type: 'string', description: 'Seller id', default: 'sel_default' },
    category: { type: 'string', description: 'Category', default: 'general' },
    header: { type: 'string', description: 'Upstream credential header "Name: value" (kept server-side)' },
    file: { type: 'string', description: 'A JSON file with the whole service (prices per route, units, …)' },
  },
  async run({ args }) {
    try {
      let body: Record<string, unknown>;
      if (args.file) body = JSON.parse(readFileSync(args.file, 'utf8'));
      else {
        if (!args.slug || !args.upstream || !args.price) throw new TollgateError('invalid_request', 'give a slug, --upstream and --price (or --file service.json)');
        const header = args.header?.match(/^([^:]+):\s*(.+)$/);
        body = {
          slug: args.slug, baseUrl: args.upstream, sellerId: args.seller, category: args.category,
          prices: [{ type: 'fixed', price: args.price }],
          ...(header ? { credentials: { headers: { [header[1]!.trim()]: header[2]! } } } : {}),
        };
      }
      const service = await withTarget(args, (t) => t.request('POST', '/v1/services', body));
      if (args.json) return printJson(service);
      process.stdout.write(`service ${service.slug} (${service.id}) → ${service.baseUrl}\ncall it at /proxy/${service.slug}/…\n`);
    } catch (error) {
      fail(error);
    }
  },
});

const list = defineCommand({
  meta: { name: 'list', description: 'List services and their prices' },
  args: { ...targetArgs },
  async run({ args }) {
    try {
      const page = await withTarget(args, (t) => t.request('GET', '/v1/services'));
      if (args.json) return printJson(page.items);
      printTable(page.items.map((s: Record<string, unknown>) => ({ ...s, prices: (s.prices as { method: string; path: string; price?: string; unitPrice?: string }[]).map((p) => `${p.method} ${p.path} ${p.price ?? `${p.unitPrice}/unit`}`).join('; ') })), ['slug', 'id', 'baseUrl', 'sellerId', 'category', 'prices', 'disabled']);
    } catch (error) {
      fail(error);
    }
  },
});

export const services = defineCommand({
  meta: { name: 'services', description: 'Paid services: add, list' },
  subCommands: { add, list },
});
