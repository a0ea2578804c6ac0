/**
 * @module mcp/deps
 * What the MCP gateway needs, and what it knows about one agent session.
 */
import type { Grant, ServiceRegistry, Tollgate } from '@tollgate/core';
import type { Logger } from '../logger.ts';
import type { Metrics } from '../metrics/index.ts';
import type { Quotas } from '../quota/index.ts';
import type { MppEdge } from '../rails/mpp.ts';
import type { X402Edge } from '../rails/x402.ts';
import type { UsageSink } from '../usage/index.ts';
import type { UpstreamPool } from './upstreams.ts';

export interface GatewayDeps {
  tg: Tollgate;
  services: ServiceRegistry;
  pool: UpstreamPool;
  usage: UsageSink;
  /** Per-principal quotas, checked before authorize. */
  quotas?: Quotas;
  /** MPP payments for services that take them: tool calls without a grant, or with a credential. */
  mpp?: MppEdge;
  /** x402 payments for services with an x402 setting (`rails/x402-mcp.ts`). */
  x402?: X402Edge;
  /** Sends a request to the paid HTTP proxy (`call_service`); the server passes its own app. */
  proxyFetch: (request: Request) => Promise<Response>;
  /** Where a person decides an approval, for clients that cannot elicit. */
  approvalUrl?: (approvalId: string) => string;
  /**
   * Ask approvals in the conversation when the client can elicit (default true). Turn off
   * (`TOLLGATE_MCP_ELICITATION=off`) where the MCP client is an unattended program that could
   * answer its own approval questions: approvals then go through the API/dashboard only.
   */
  elicitApprovals?: boolean;
  /** Prometheus counters of the server this gateway is mounted in (absent for stdio). */
  metrics?: Metrics;
  /** Where unexpected errors (bugs) are logged; refusals are not errors. */
  logger?: Logger;
  /** How long an elicited approval question may stay open. */
  elicitTimeoutMs?: number;
}

/** One authenticated agent connection: its grant token (never forwarded upstream) and grant. */
export interface GatewaySession {
  token: string;
  /** Undefined when no token is configured (stdio without TOLLGATE_TOKEN): only `setup` works. */
  grant: Grant | undefined;
  /** Approvals granted "for this task" in this session, by task id: later calls in the task carry them. */
  taskApprovals?: Map<string, string>;
}

/** Most task approvals one session remembers. */
export const SESSION_TASK_APPROVALS_MAX = 1_000;
