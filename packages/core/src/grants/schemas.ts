/**
 * @module grants/schemas
 * The wire shape of a grant (a scoped budget, "pay token"), validated with zod.
 */
import { z } from 'zod';
import { MoneyString } from '../principals/schemas.ts';
import { PATTERN } from './patterns.ts';

const pattern = z.string().regex(PATTERN, 'an exact name or a `prefix*` pattern');

export const ReapprovalSchema = z.strictObject({
  /** Ask again for any single call priced above this. */
  priceAbove: MoneyString.optional(),
  /** Ask again for tools matching these patterns. */
  tools: z.array(pattern).max(100).optional(),
  /** Ask again for services in these categories. */
  categories: z.array(z.string().min(1).max(100)).max(100).optional(),
});
export type Reapproval = z.infer<typeof ReapprovalSchema>;

export const CreateGrantSchema = z
  .strictObject({
    userId: z.string().min(1),
    subject: z.enum(['user', 'org', 'project']).default('user'),
    projectId: z.string().min(1).optional(),
    agentId: z.string().min(1).optional(),
    taskId: z.string().min(1).max(200).optional(),
    totalCap: MoneyString,
    perCallCap: MoneyString.optional(),
    ratePerMinute: z.number().int().min(1).max(100_000).optional(),
    services: z.array(pattern).min(1).max(100),
    tools: z.array(pattern).max(100).optional(),
    notBefore: z.iso.datetime({ offset: true }).optional(),
    expiresAt: z.iso.datetime({ offset: true }).optional(),
    reapproval: ReapprovalSchema.optional(),
    tag: z.string().max(200).optional(),
    metadata: z.record(z.string(), z.unknown()).optional(),
    mode: z.enum(['live', 'test']).default('live'),
  })
  .refine((g) => !g.notBefore || !g.expiresAt || Date.parse(g.notBefore) < Date.parse(g.expiresAt), {
    message: 'must be after notBefore',
    path: ['expiresAt'],
  });
export type CreateGrantInput = z.input<typeof CreateGrantSchema>;

/** A child grant: everything is optional and narrowed from the parent. */
export const DelegateGrantSchema = z.strictObject({
  agentId: z.string().min(1).optional(),
  taskId: z.string().min(1).max(200).optional(),
  totalCap: MoneyString,
  perCallCap: MoneyString.optional(),
  ratePerMinute: z.number().int().min(1).max(100_000).optional(),
  services: z.array(pattern).min(1).max(100).optional(),
  tools: z.array(pattern).max(100).optional(),
  expiresAt: z.iso.datetime({ offset: true }).optional(),
  tag: z.string().max(200).optional(),
  metadata: z.record(z.string(), z.unknown()).optional(),
});
export type DelegateGrantInput = z.input<typeof DelegateGrantSchema>;
