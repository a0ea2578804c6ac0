/**
 * @module admin/routes/calls
 * Paid-call records from the audit log: query, one call with its history, a readable explanation,
 * and streaming exports (CSV, JSON Lines, ledger journal) that hold one page in memory at a time.
 */
import { z } from 'zod';
import { TollgateError, type AuditFilter } from '@tollgate/core';
import { route, type RouteDef } from '../route.ts';
import { orgFilter, requireOrg, type AdminDeps } from './deps.ts';

const CallId = z.strictObject({ callId: z.string().regex(/^call_[0-9a-f]{1,64}$/, 'a call id such as call_…') });

const Filter = {
  orgId: z.string().min(1).max(200).optional(),
  userId: z.string().min(1).max(200).optional(),
  grantId: z.string().min(1).max(200).optional(),
  agentId: z.string().min(1).max(200).optional(),
  taskId: z.string().min(1).max(200).optional(),
  service: z.string().min(1).max(200).optional(),
  outcome: z.enum(['captured', 'voided', 'refused', 'expired']).optional(),
  from: z.iso.datetime({ offset: true }).optional(),
  to: z.iso.datetime({ offset: true }).optional(),
};
export const CallFilterSchema = z.strictObject(Filter);

function toFilter(query: z.output<typeof CallFilterSchema>, orgId: string | undefined): AuditFilter {
  const { from, to, ...rest } = query;
  return { ...rest, ...(orgId ? { orgId } : {}), ...(from ? { from: new Date(from) } : {}), ...(to ? { to: new Date(to) } : {}) };
}

const CallRecordView = z.object({
  callId: z.string(), outcome: z.enum(['captured', 'voided', 'refused', 'expired']), service: z.string(), tool: z.string(), taskId: z.string().nullable(), agentId: z.string().nullable(),
  reason: z.string().nullable(), priceMicros: z.string(), capturedMicros: z.string(), status: z.string(), errorCode: z.string().nullable(), latencyMs: z.number().nullable(), createdAt: z.string(),
});

const EXPORT_TYPES = { csv: 'text/csv; charset=utf-8', jsonl: 'application/jsonl', journal: 'text/csv; charset=utf-8' } as const;

export function callRoutes({ tg }: AdminDeps): RouteDef[] {
  return [
    route({ method: 'get', path: '/v1/calls', tag: 'calls', summary: 'Query paid-call records (newest first)', roles: ['admin', 'buyer'],
      query: z.strictObject({ ...Filter, limit: z.coerce.number().int().min(1).max(1000).optional(), before: z.string().min(1).max(100).optional() }),
      response: z.object({ records: z.array(CallRecordView), next: z.string().optional() }), handler: async ({ query, principal }) => {
        const { limit, before, ...filter } = query;
        return tg.audit.query({ ...toFilter(filter, orgFilter(principal, filter.orgId)), ...(limit ? { limit } : {}), ...(before ? { before } : {}) });
      } }),
    route({ method: 'get', path: '/v1/calls/export', tag: 'calls', summary: 'Export call records as CSV, JSON Lines or a ledger journal (streamed)', roles: ['admin', 'buyer'], produces: 'text/csv',
      query: z.strictObject({ ...Filter, format: z.enum(['csv', 'jsonl', 'journal']).default('csv') }), handler: async ({ query, principal }) => {
        const { format, ...filter } = query;
        const f = toFilter(filter, orgFilter(principal, filter.orgId));
        const lines = format === 'csv' ? tg.audit.exportCsv(f) : format === 'jsonl' ? tg.audit.exportJsonl(f) : tg.audit.exportJournal(f);
        return new Response(linesStream(lines), {
          headers: { 'content-type': EXPORT_TYPES[format], 'content-disposition': `attachment; filename="tollgate-calls.${format === 'jsonl' ? 'jsonl' : 'csv'}"`, 'cache-control': 'no-store' },
        });
      } }),
    route({ method: 'get', path: '/v1/calls/:callId', tag: 'calls', summary: 'One call: its final record and every record of it (refusals, retries)', roles: ['admin', 'buyer'], params: CallId, handler: async ({ params, principal }) => {
      const history = await tg.audit.history(params.callId);
      const record = history.at(-1);
      if (!record) throw new TollgateError('not_found', `no record of call ${params.callId}`, { callId: params.callId });
      requireOrg(principal, record.orgId);
      return { record, history };
    } }),
    route({ method: 'get', path: '/v1/calls/:callId/explain', tag: 'calls', summary: 'Why this call was paid, or why it was refused, in words', roles: ['admin', 'buyer'], params: CallId, produces: 'text/plain', handler: async ({ c, params, principal }) => {
      const record = await tg.audit.get(params.callId);
      if (!record) throw new TollgateError('not_found', `no record of call ${params.callId}`, { callId: params.callId });
      requireOrg(principal, record.orgId);
      const text = await tg.audit.explain(params.callId);
      if ((c.req.header('accept') ?? '').includes('application/json')) return { callId: params.callId, explanation: text };
      return new Response(`${text}\n`, { headers: { 'content-type': 'text/plain; charset=utf-8' } });
    } }),
  ];
}

/** Streams an async iterable of lines with back-pressure (one line per pull). */
function linesStream(lines: AsyncIterable<string>): ReadableStream<Uint8Array> {
  const iterator = lines[Symbol.asyncIterator]();
  const encoder = new TextEncoder();
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      const { done, value } = await iterator.next();
      if (done) controller.close();
      else controller.enqueue(encoder.encode(value));
    },
    async cancel() {
      await iterator.return?.();
    },
  });
}
