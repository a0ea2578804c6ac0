/**
 * @module config/config
 * Server configuration: defaults, then an optional JSON file (`TOLLGATE_CONFIG` or `--config`), then
 * environment variables `TOLLGATE_<NAME>` (e.g. `allowLoopbackUpstreams` ← `TOLLGATE_ALLOW_LOOPBACK_UPSTREAMS`).
 * One zod schema validates all three, and docs/http.md lists every option.
 */
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { TollgateError } from '@tollgate/core';

const bool = z.union([z.boolean(), z.enum(['true', 'false', '1', '0', 'yes', 'no']).transform((v) => v === 'true' || v === '1' || v === 'yes')]);
const int = (min: number, max: number) => z.coerce.number().int().min(min).max(max);
const list = z.union([z.array(z.string()), z.string().transform((s) => s.split(',').map((x) => x.trim()).filter(Boolean))]);

export const ConfigSchema = z.strictObject({
  /** Interface to listen on. */
  host: z.string().min(1).default('127.0.0.1'),
  /** Port to listen on (0 = any free port). */
  port: int(0, 65_535).default(8787),
  /** `postgres://…` for PostgreSQL, else a PGlite data folder (`memory://` for in-memory). */
  databaseUrl: z.string().min(1).default('.tollgate/data'),
  /** The address clients use, for links in answers (defaults to http://host:port). */
  publicUrl: z.url().optional(),
  /** Seed the demo (org, user, seller, loopback services, keys) on first start. Default: on for PGlite, off for PostgreSQL. */
  demo: bool.optional(),
  /** Port of the demo upstream services on 127.0.0.1 (0 = any free port). */
  demoUpstreamPort: int(0, 65_535).default(0),
  /** Allow upstream URLs on private networks, link-local and loopback. */
  allowPrivateUpstreams: bool.default(false),
  /** Allow loopback upstreams only (127.0.0.0/8, ::1); the demo turns this on. */
  allowLoopbackUpstreams: bool.default(false),
  /** Upstream host names or IPs always allowed (comma-separated in the environment). */
  upstreamAllowHosts: list.default([]),
  /** Origins allowed by CORS on the admin API; empty = CORS off. */
  corsOrigins: list.default([]),
  /** pino level. */
  logLevel: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  /** Largest request body the proxy forwards. */
  requestBodyBytesMax: int(0, 1024 ** 3).default(10 * 1024 * 1024),
  /** Request bodies up to this size (with a Content-Length) are read and hashed into the idempotency fingerprint before forwarding. */
  fingerprintBodyBytesMax: int(0, 64 * 1024 * 1024).default(1024 * 1024),
  /** Response bodies up to this size are stored with the call and returned on an idempotent replay (0 = never). */
  replayBodyBytesMax: int(0, 16 * 1024 * 1024).default(64 * 1024),
  /** Largest JSON response read to find a usage field (per-unit prices read from the body). */
  unitsBodyBytesMax: int(1024, 256 * 1024 * 1024).default(8 * 1024 * 1024),
  /** Longest a proxied call may run, body included (slow streams end here). Keep it below the org's hold timeout (default 300 s), or a long stream's hold expires and it is not charged. */
  upstreamMaxDurationMs: int(1_000, 24 * 3600 * 1000).default(5 * 60 * 1000),
  /** Failed API-key attempts from one IP and key prefix before a lockout. */
  lockoutFailuresMax: int(1, 1_000_000).default(10),
  /** Window in which failures are counted. */
  lockoutWindowMs: int(1_000, 24 * 3600 * 1000).default(60_000),
  /** How long a lockout lasts. */
  lockoutDurationMs: int(1_000, 24 * 3600 * 1000).default(15 * 60_000),
  /** Use the first X-Forwarded-For address as the client IP (only behind a trusted proxy). */
  trustProxy: bool.default(false),
  /** An admin API key to accept (kept hashed in the database); for scripted setups. */
  adminApiKey: z.string().min(20).max(200).optional(),
  /** Serve /metrics. */
  metrics: bool.default(true),
  /** Seconds between hold-expiry sweeps (0 = off). */
  sweepIntervalSeconds: int(0, 3600).default(30),
  /** The x402 facilitator (`GET /supported`, `POST /verify`, `POST /settle`) that services with an x402 setting verify and settle through. Unset = x402 off. */
  x402FacilitatorUrl: z.url({ protocol: /^https?$/ }).optional(),
  /** How long one facilitator call may take; a settle past it has an unknown outcome (content withheld, reconciled on retry). */
  x402FacilitatorTimeoutMs: int(1_000, 600_000).default(30_000),
  /** JSON-RPC URL of the EVM chain: reconciles x402 settlements of unknown outcome, verifies deposits. */
  chainRpcUrl: z.url({ protocol: /^https?$/ }).optional(),
  /** Buyer side: the key Tollgate pays x402 upstreams with, inside the caller's grant (agents never see it). Unset = never pays upstreams. */
  x402WalletKey: z.string().regex(/^0x[0-9a-fA-F]{64}$/, 'a 32-byte hex private key').optional(),
  /** Deposits: the address users send USDC to, and the token contract (6 decimals). Needs `chainRpcUrl`. */
  depositAddress: z.string().regex(/^0x[0-9a-fA-F]{40}$/, 'an EVM address').optional(),
  depositAsset: z.string().regex(/^0x[0-9a-fA-F]{40}$/, 'an EVM address').optional(),
  /** Redis (`redis://…`) for quotas and the usage stream. Without it quotas are counted in the database. Quotas fail closed when it is unreachable. */
  redisUrl: z.string().regex(/^rediss?:\/\//, 'a redis:// or rediss:// URL').optional(),
  /** Default quota per principal (the grant's user): calls or units per window; unset = no default quota. Per-user quotas are set through the admin API. */
  quotaLimit: int(0, Number.MAX_SAFE_INTEGER).optional(),
  /** What the default quota counts: `calls` (taken before authorize) or `units` (added after each call). */
  quotaMetric: z.enum(['calls', 'units']).default('calls'),
  /** Length of a quota window. */
  quotaWindowSeconds: int(1, 366 * 24 * 3600).default(60),
  /** `fixed` windows (exact), or `sliding` (the previous window weighted; Redis only). */
  quotaAlgorithm: z.enum(['fixed', 'sliding']).default('fixed'),
  /** Append every observed usage event to this JSON Lines file. */
  usageJsonl: z.string().min(1).optional(),
  /** Export captured usage (exactly once, keyed by call id) to this Redis stream; needs `redisUrl`. */
  usageRedisStream: z.string().min(1).max(200).optional(),
  /** Entries the usage stream keeps (approximately). */
  usageRedisStreamLengthMax: int(1_000, 1_000_000_000).default(1_000_000),
  /** Export captured usage to Stripe as meter events with this secret key; needs `stripeMeterEventName`. */
  stripeSecretKey: z.string().regex(/^(sk|rk)_(test|live)_[A-Za-z0-9_]+$/, 'a Stripe secret or restricted key (sk_… / rk_…)').optional(),
  /** The `event_name` of the Stripe meter. */
  stripeMeterEventName: z.string().min(1).max(100).optional(),
  /** What a meter event's value is: the charge in micro-units, the units, or 1 per call. */
  stripeMeterValue: z.enum(['charge_micros', 'units', 'calls']).default('charge_micros'),
  /** `v1`: one request per meter event, validated at once (refused events set aside). `v2`: the meter event stream, 100 events per request, validated by Stripe later. */
  stripeMeterApi: z.enum(['v1', 'v2']).default('v1'),
  /** Another Stripe endpoint (`http://127.0.0.1:12111` for a local one); default Stripe's. */
  stripeApiBase: z.url().optional(),
  /** Milliseconds between usage export rounds (outbox fill and drain). */
  usageExportIntervalMs: int(100, 3_600_000).default(1_000),
});
export type Config = z.output<typeof ConfigSchema>;

/** Whether this configuration runs the demo: as set, else only on the embedded PGlite store. */
export function demoEnabled(config: Config): boolean {
  return config.demo ?? !/^postgres(ql)?:\/\//.test(config.databaseUrl);
}
export type ConfigInput = z.input<typeof ConfigSchema>;

/** `allowLoopbackUpstreams` → `TOLLGATE_ALLOW_LOOPBACK_UPSTREAMS`. */
export function envName(key: string): string {
  return `TOLLGATE_${key.replace(/[A-Z]/g, (c) => `_${c}`).toUpperCase()}`;
}

export interface LoadConfigOptions {
  env?: NodeJS.ProcessEnv;
  /** A JSON file; `TOLLGATE_CONFIG` when omitted. */
  file?: string;
  /** Highest precedence (CLI flags). */
  overrides?: Partial<ConfigInput>;
}

export function loadConfig(options: LoadConfigOptions = {}): Config {
  const env = options.env ?? process.env;
  const file = options.file ?? env.TOLLGATE_CONFIG;
  let fromFile: Record<string, unknown> = {};
  if (file) {
    try {
      fromFile = JSON.parse(readFileSync(file, 'utf8'));
    } catch (error) {
      throw new TollgateError('invalid_request', `config file ${file}: ${(error as Error).message}`, { field: 'config' });
    }
  }
  const fromEnv: Record<string, unknown> = {};
  for (const key of Object.keys(ConfigSchema.shape)) {
    const value = env[envName(key)];
    if (value !== undefined && value !== '') fromEnv[key] = value;
  }
  const merged = { ...fromFile, ...fromEnv, ...stripUndefined(options.overrides ?? {}) };
  const result = ConfigSchema.safeParse(merged);
  if (!result.success) {
    // Report every problem at once, naming the option and where it is set.
    const lines = result.error.issues.map((i) => {
      const key = String(i.path[0] ?? '');
      const source = key in fromEnv ? envName(key) : key in fromFile ? `${file}: ${key}` : key;
      return `${source}: ${i.message}`;
    });
    throw new TollgateError('invalid_request', `invalid configuration:\n  ${lines.join('\n  ')}`, { field: 'config', issues: lines });
  }
  return result.data;
}

function stripUndefined<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}
