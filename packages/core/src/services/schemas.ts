/**
 * @module services/schemas
 * Wire shapes of a paid service and its prices, validated with zod. The admin API validates with
 * these and its OpenAPI document is generated from them, so the docs cannot drift from the checks.
 */
import { z } from 'zod';

/** A decimal money string such as "0.01" (at most 6 decimals). */
export const PriceString = z.string().regex(/^(0|[1-9][0-9]{0,11})(\.[0-9]{1,6})?$/, 'a decimal amount such as "0.01" (at most 6 decimals)');

/** URL-safe service name used in `/proxy/{slug}/…` and in grant patterns. */
export const ServiceSlug = z.string().regex(/^[a-z0-9][a-z0-9-]{0,62}$/, 'lower-case letters, digits and dashes, at most 63');

export const HTTP_METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'] as const;

/** `*` matches within one path segment, `**` matches the rest of the path (any segments). */
export const PathPattern = z.string().min(1).max(500).regex(/^\/[^\s?#]*$/, 'a path starting with / (use * for one segment, ** for the rest); no query');

/** Header names are checked so a stored credential can never smuggle a second header. */
const HeaderName = z.string().regex(/^[A-Za-z0-9!#$%&'*+.^_`|~-]{1,100}$/, 'an HTTP header name');
const HeaderValue = z.string().min(1).max(4000).regex(/^[^\r\n\0]*$/, 'no line breaks');

/** Where the upstream reports how many units a usage-priced call used. */
export const UnitsSourceSchema = z.discriminatedUnion('from', [
  z.strictObject({ from: z.literal('header'), name: HeaderName }),
  /** A dotted path into a JSON response body, e.g. `usage.total_tokens`. */
  z.strictObject({ from: z.literal('json'), path: z.string().regex(/^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+){0,9}$/, 'a dotted path such as usage.total_tokens') }),
]);
export type UnitsSource = z.infer<typeof UnitsSourceSchema>;

const routeFields = {
  /** HTTP method or `*` for any. */
  method: z.enum([...HTTP_METHODS, '*']).default('*'),
  path: PathPattern.default('/**'),
};

export const FixedPriceSchema = z.strictObject({
  ...routeFields,
  type: z.literal('fixed'),
  /** Charged per call. */
  price: PriceString,
});

export const UnitPriceSchema = z.strictObject({
  ...routeFields,
  type: z.literal('per_unit'),
  unitPrice: PriceString,
  /** The most units one call may use: `unitPrice × maxUnits` is held first, the actual is captured after. */
  maxUnits: z.number().int().min(1).max(1_000_000_000),
  units: UnitsSourceSchema,
});

export const PriceRuleSchema = z.discriminatedUnion('type', [FixedPriceSchema, UnitPriceSchema]);
export type PriceRule = z.infer<typeof PriceRuleSchema>;
export type PriceRuleInput = z.input<typeof PriceRuleSchema>;

export const CredentialsSchema = z.strictObject({
  /** Headers added to every forwarded request (e.g. `Authorization: Bearer sk-…`). Never returned. */
  headers: z.record(HeaderName, HeaderValue).refine((h) => Object.keys(h).length <= 20, 'at most 20 headers').default({}),
});
export type Credentials = z.infer<typeof CredentialsSchema>;

/** An MCP upstream (used by the MCP gateway): a command to spawn or a Streamable HTTP URL. */
export const McpUpstreamSchema = z.strictObject({
  command: z.array(z.string().min(1).max(1000)).min(1).max(50).optional(),
  url: z.url({ protocol: /^https?$/ }).optional(),
});

const serviceFields = {
  name: z.string().trim().min(1).max(200).optional(),
  /** Upstream base URL; the proxied path is appended to it. Required for `http` services. */
  baseUrl: z.url({ protocol: /^https?$/ }).max(2000).optional(),
  mcp: McpUpstreamSchema.optional(),
  credentials: CredentialsSchema.optional(),
  /** Tried in order; the first rule whose method and path match prices the call. */
  prices: z.array(PriceRuleSchema).min(1).max(200),
  /** First N calls per user per calendar month are free. */
  freeCallsPerMonth: z.number().int().min(0).max(1_000_000_000).default(0),
  category: z.string().trim().min(1).max(100).default('general'),
  sensitivity: z.enum(['low', 'medium', 'high']).default('low'),
  sellerId: z.string().min(1).max(200),
  /** Default false: only 2xx answers are charged. */
  chargeFailedCalls: z.boolean().default(false),
  /** How long the proxy waits for the upstream's answer headers. */
  timeoutMs: z.number().int().min(100).max(300_000).default(30_000),
  metadata: z.record(z.string(), z.unknown()).optional(),
};

export const CreateServiceSchema = z
  .strictObject({ slug: ServiceSlug, kind: z.enum(['http', 'mcp']).default('http'), ...serviceFields })
  .refine((s) => s.kind !== 'http' || s.baseUrl !== undefined, { message: 'an http service needs a baseUrl', path: ['baseUrl'] })
  .refine((s) => s.kind !== 'mcp' || s.mcp !== undefined || s.baseUrl !== undefined, { message: 'an mcp service needs mcp.command, mcp.url or a baseUrl', path: ['mcp'] });
export type CreateServiceInput = z.input<typeof CreateServiceSchema>;

export const UpdateServiceSchema = z.strictObject({
  name: serviceFields.name,
  baseUrl: serviceFields.baseUrl,
  mcp: serviceFields.mcp,
  credentials: serviceFields.credentials,
  prices: serviceFields.prices.optional(),
  freeCallsPerMonth: z.number().int().min(0).max(1_000_000_000).optional(),
  category: z.string().trim().min(1).max(100).optional(),
  sensitivity: z.enum(['low', 'medium', 'high']).optional(),
  chargeFailedCalls: z.boolean().optional(),
  timeoutMs: z.number().int().min(100).max(300_000).optional(),
  metadata: serviceFields.metadata,
  disabled: z.boolean().optional(),
});
export type UpdateServiceInput = z.input<typeof UpdateServiceSchema>;

/** What the API returns for a service: everything but the credential values. */
export const ServiceViewSchema = z.object({
  id: z.string(),
  slug: z.string(),
  kind: z.enum(['http', 'mcp']),
  name: z.string(),
  baseUrl: z.string().nullable(),
  sellerId: z.string(),
  category: z.string(),
  sensitivity: z.enum(['low', 'medium', 'high']),
  freeCallsPerMonth: z.number(),
  chargeFailedCalls: z.boolean(),
  timeoutMs: z.number(),
  prices: z.array(PriceRuleSchema),
  /** Names of the injected headers; their values are never returned. */
  credentialHeaders: z.array(z.string()),
  disabled: z.boolean(),
  createdAt: z.string(),
  updatedAt: z.string(),
});
