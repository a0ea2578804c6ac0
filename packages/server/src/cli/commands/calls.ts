/**
 * @module cli/commands/calls
 * `tollgate calls list | explain | export`. Exports stream line by line to a file or stdout, with a
 * progress counter on stderr.
 */
import { createWriteStream } from 'node:fs';
import { once } from 'node:events';
import { defineCommand } from 'citty';
import cliProgress from 'cli-progress';
import { formatMicros } from '@tollgate/core';
import { fail, printJson, printTable } from '../output.ts';
import { queryString, targetArgs, withTarget } from '../target.ts';

const filterArgs = {
  user: { type: 'string', description: 'User id' },
  grant: { type: 'string', description: 'Grant id' },
  task: { type: 'string', description: 'Task id' },
  agent: { type: 'string', description: 'Agent id' },
  service: { type: 'string', description: 'Service slug' },
  outcome: { type: 'string', description: 'captured | voided | refused | expired' },
  from: { type: 'string', description: 'From (ISO 8601, inclusive)' },
  to: { type: 'string', description: 'To (ISO 8601, exclusive)' },
} as const;

function filterOf(args: Record<string, unknown>): Record<string, unknown> {
  return { userId: args.user, grantId: args.grant, taskId: args.task, agentId: args.agent, service: args.service, outcome: args.outcome, from: args.from, to: args.to };
}

const list = defineCommand({
  meta: { name: 'list', description: 'Recent paid calls and refusals' },
  args: { ...targetArgs, ...filterArgs, limit: { type: 'string', description: 'At most this many (default 50)', default: '50' } },
  async run({ args }) {
    try {
      const page = await withTarget(args, (t) => t.request('GET', `/v1/calls${queryString({ ...filterOf(args), limit: args.limit })}`));
      if (args.json) return printJson(page.records);
      printTable(page.records.map((r: Record<string, string>) => ({ ...r, charged: formatMicros(BigInt(r.capturedMicros ?? '0')) })), ['createdAt', 'callId', 'outcome', 'service', 'tool', 'charged', 'errorCode', 'taskId', 'agentId']);
    } catch (error) {
      fail(error);
    }
  },
});

const explain = defineCommand({
  meta: { name: 'explain', description: 'Why a call was paid, or why it was refused' },
  args: { ...targetArgs, id: { type: 'positional', description: 'Call id', required: true } },
  async run({ args }) {
    try {
      const text = await withTarget(args, (t) => t.request('GET', `/v1/calls/${encodeURIComponent(args.id)}/explain`));
      if (args.json) return printJson({ callId: args.id, explanation: String(text).trim() });
      process.stdout.write(`${String(text).trim()}\n`);
    } catch (error) {
      fail(error);
    }
  },
});

const exportCommand = defineCommand({
  meta: { name: 'export', description: 'Export call records as CSV, JSON Lines or a ledger journal' },
  args: { ...targetArgs, ...filterArgs, format: { type: 'string', description: 'csv | jsonl | journal', default: 'csv' }, out: { type: 'string', description: 'File to write (default stdout)' } },
  async run({ args }) {
    try {
      const out = args.out ? createWriteStream(args.out) : process.stdout;
      const showProgress = Boolean(args.out) || !process.stdout.isTTY;
      const bar = new cliProgress.SingleBar({ format: 'exporting {value} lines ({speed} lines/s)', stream: process.stderr, noTTYOutput: false, hideCursor: true }, cliProgress.Presets.shades_classic);
      let lines = 0;
      const started = Date.now();
      if (showProgress) bar.start(0, 0, { speed: 0 });
      await withTarget(args, async (t) => {
        for await (const line of t.stream(`/v1/calls/export${queryString({ ...filterOf(args), format: args.format })}`)) {
          if (!out.write(line)) await once(out, 'drain');
          lines++;
          if (showProgress && lines % 200 === 0) bar.update(lines, { speed: Math.round(lines / Math.max(0.001, (Date.now() - started) / 1000)) });
        }
      });
      if (showProgress) {
        bar.setTotal(lines);
        bar.update(lines, { speed: Math.round(lines / Math.max(0.001, (Date.now() - started) / 1000)) });
        bar.stop();
      }
      if (args.out) {
        (out as ReturnType<typeof createWriteStream>).end();
        process.stderr.write(`wrote ${lines} lines to ${args.out}\n`);
      }
    } catch (error) {
      fail(error);
    }
  },
});

export const calls = defineCommand({
  meta: { name: 'calls', description: 'Paid calls: list, explain, export' },
  subCommands: { list, explain, export: exportCommand },
});
