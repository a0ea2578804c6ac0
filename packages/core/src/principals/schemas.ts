/**
 * @module principals/schemas
 * Wire shapes of orgs, projects, users and agents, validated with zod; the admin API and its
 * OpenAPI document use the same schemas.
 */
import { z } from 'zod';

/** A decimal money string such as "25.00" (parsed to micro-units with `parseMicros`). */
export const MoneyString = z.string().regex(/^(0|[1-9][0-9]*)(\.[0-9]{1,6})?$/, 'a decimal amount such as "25.00" (at most 6 decimals)');

const name = z.string().trim().min(1).max(200);

export const OrgSettingsSchema = z.strictObject({
  /** Daily spend per agent by trust level 0, 1, 2 (decimal strings). */
  agentDailyTiers: z.tuple([MoneyString, MoneyString, MoneyString]).optional(),
  /** Platform fee on each capture, in basis points (1/100 of a percent). */
  feeBasisPoints: z.number().int().min(0).max(10_000).optional(),
  /** Seconds a hold may stand before the sweeper releases it. */
  holdTimeoutSeconds: z.number().int().min(5).max(86_400).optional(),
});
export type OrgSettings = z.infer<typeof OrgSettingsSchema>;

export const CreateOrgSchema = z.strictObject({
  name,
  currency: z.string().regex(/^[A-Z][A-Z0-9]{2,9}$/).default('USD'),
  monthlyLimit: MoneyString.nullable().optional(),
  settings: OrgSettingsSchema.optional(),
});
export type CreateOrgInput = z.input<typeof CreateOrgSchema>;

export const CreateProjectSchema = z.strictObject({ orgId: z.string().min(1), name, monthlyLimit: MoneyString.nullable().optional() });
export type CreateProjectInput = z.input<typeof CreateProjectSchema>;

export const CreateUserSchema = z.strictObject({
  orgId: z.string().min(1),
  projectId: z.string().min(1).optional(),
  name,
  email: z.email().optional(),
  monthlyLimit: MoneyString.nullable().optional(),
});
export type CreateUserInput = z.input<typeof CreateUserSchema>;

export const CreateAgentSchema = z.strictObject({ userId: z.string().min(1), name, trustLevel: z.number().int().min(0).max(2).default(0) });
export type CreateAgentInput = z.input<typeof CreateAgentSchema>;

export const TopUpSchema = z.strictObject({
  ownerId: z.string().min(1),
  amount: MoneyString,
  /** Your reference for this funding (a bank transfer id, an invoice); a repeat is applied once. */
  reference: z.string().min(1).max(150),
});
export type TopUpInput = z.input<typeof TopUpSchema>;
