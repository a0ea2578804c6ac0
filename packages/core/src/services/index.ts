/**
 * @module services
 * The service registry: paid upstreams (HTTP APIs, MCP servers), their prices per route, their
 * server-side credentials, and the SSRF check of their addresses.
 */
export { ServiceRegistry, toServiceRef, SERVICES_PAGE_MAX, type Service, type ResolvedService, type ServiceRegistryOptions } from './registry.ts';
export { quote, usageChargeMicros, type Quote } from './quote.ts';
export { compilePathPattern, pathMatches } from './path-pattern.ts';
export { checkUpstreamUrl, classifyAddress, type AddressClass, type UpstreamPolicy, type Lookup } from './upstream-address.ts';
export {
  CreateServiceSchema,
  UpdateServiceSchema,
  ServiceViewSchema,
  PriceRuleSchema,
  FixedPriceSchema,
  UnitPriceSchema,
  UnitsSourceSchema,
  CredentialsSchema,
  PriceString,
  ServiceSlug,
  HTTP_METHODS,
  type CreateServiceInput,
  type UpdateServiceInput,
  type PriceRule,
  type PriceRuleInput,
  type UnitsSource,
  type Credentials,
} from './schemas.ts';
