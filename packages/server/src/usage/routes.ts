/**
 * @module usage/routes
 * `GET /v1/usage/exports`: where each downstream sink of captured usage stands — its cursor, how
 * many captures wait for it, its failures in a row and last error, how many events it set aside —
 * so an operator sees a sink that is down (its backlog grows) before an invoice is short.
 */
import { z } from 'zod';
import type { Db } from '@tollgate/core';
import { route, type RouteDef } from '../admin/route.ts';

const ExportView = z.object({
  sink: z.string(), cursor: z.string(), pending: z.number(), failures: z.number(), lastError: z.string().nullable(),
  rejected: z.number(), leasedUntil: z.string().nullable(), updatedAt: z.string(),
});

interface Row {
  sink: string;
  audit_seq: bigint;
  pending: bigint;
  failures: number;
  last_error: string | null;
  rejected: bigint;
  lease_until: Date | null;
  updated_at: Date;
}

export function usageExportRoutes({ db }: { db: Db }): RouteDef[] {
  return [
    route({ method: 'get', path: '/v1/usage/exports', tag: 'usage', summary: 'Each usage export sink: cursor, captures waiting, failures and events set aside', roles: ['admin'],
      response: z.object({ outbox: z.number(), items: z.array(ExportView) }),
      handler: async () => {
        const rows = await db.query<Row>(
          `SELECT e.sink, e.audit_seq, e.failures, e.last_error, e.lease_until, e.updated_at,
                  (SELECT count(*) FROM usage_outbox o WHERE o.audit_seq > e.audit_seq) AS pending,
                  (SELECT count(*) FROM usage_export_rejects r WHERE r.sink = e.sink) AS rejected
             FROM usage_exports e ORDER BY e.sink`,
        );
        const [total] = await db.query<{ n: bigint }>('SELECT count(*) AS n FROM usage_outbox');
        return {
          outbox: Number(total?.n ?? 0n),
          items: rows.map((r) => ({
            sink: r.sink, cursor: String(r.audit_seq), pending: Number(r.pending), failures: r.failures, lastError: r.last_error,
            rejected: Number(r.rejected), leasedUntil: r.lease_until ? new Date(r.lease_until).toISOString() : null, updatedAt: new Date(r.updated_at).toISOString(),
          })),
        };
      } }),
  ];
}
