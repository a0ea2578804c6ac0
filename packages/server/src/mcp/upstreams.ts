/**
 * @module mcp/upstreams
 * One MCP client per registered MCP service, shared by every agent session: a spawned stdio
 * command or a Streamable HTTP URL. The service's stored credential headers are sent on the
 * HTTP connection (or given to the command as `TOLLGATE_UPSTREAM_HEADERS`); the agent's grant token
 * never leaves Tollgate. A broken connection is dropped and reopened on the next call.
 */
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport, getDefaultEnvironment } from '@modelcontextprotocol/sdk/client/stdio.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { ToolListChangedNotificationSchema, type Tool } from '@modelcontextprotocol/sdk/types.js';
import { TollgateError, type ResolvedService } from '@tollgate/core';
import { upstreamFetch } from './upstream-fetch.ts';

/** Most tools read from one upstream (pages are followed up to this). */
export const UPSTREAM_TOOLS_MAX = 1_000;
/** How long a tool list is reused before it is asked for again. */
const TOOLS_CACHE_MS = 30_000;
/** How long connecting to an upstream may take. */
const CONNECT_TIMEOUT_MS = 15_000;

interface Entry {
  client: Promise<Client>;
  tools?: { at: number; list: Tool[] };
}

export class UpstreamPool {
  readonly #entries = new Map<string, Entry>();
  readonly #toolListeners = new Set<(slug: string) => void>();

  /** The connected client for a service (connecting on first use). */
  async client(resolved: ResolvedService): Promise<Client> {
    const slug = resolved.service.slug;
    let entry = this.#entries.get(slug);
    if (!entry) {
      const created: Entry = { client: connect(resolved) };
      entry = created;
      this.#entries.set(slug, created);
      created.client.then((client) => {
        // An upstream's tool list changed: forget the cached list and tell the agents' sessions.
        client.setNotificationHandler(ToolListChangedNotificationSchema, async () => {
          created.tools = undefined;
          for (const listener of this.#toolListeners) listener(slug);
        });
      }, () => this.#entries.delete(slug));
    }
    return entry.client;
  }

  /** Calls `listener` when an upstream says its tools changed; returns the unsubscribe. */
  onToolsChanged(listener: (slug: string) => void): () => void {
    this.#toolListeners.add(listener);
    return () => this.#toolListeners.delete(listener);
  }

  /** The upstream's tools (all pages, cached for a short while). */
  async tools(resolved: ResolvedService): Promise<Tool[]> {
    const client = await this.client(resolved);
    const entry = this.#entries.get(resolved.service.slug)!;
    if (entry.tools && Date.now() - entry.tools.at < TOOLS_CACHE_MS) return entry.tools.list;
    const list: Tool[] = [];
    let cursor: string | undefined;
    do {
      const page = await client.listTools(cursor ? { cursor } : {}, { timeout: resolved.service.timeoutMs });
      list.push(...page.tools);
      cursor = page.nextCursor;
    } while (cursor && list.length < UPSTREAM_TOOLS_MAX);
    entry.tools = { at: Date.now(), list: list.slice(0, UPSTREAM_TOOLS_MAX) };
    return entry.tools.list;
  }

  /** Forgets a connection that failed, so the next call reconnects. */
  drop(slug: string): void {
    const entry = this.#entries.get(slug);
    this.#entries.delete(slug);
    void entry?.client.then((c) => c.close()).catch(() => {});
  }

  async close(): Promise<void> {
    const entries = [...this.#entries.values()];
    this.#entries.clear();
    await Promise.all(entries.map((e) => e.client.then((c) => c.close()).catch(() => {})));
  }
}

async function connect(resolved: ResolvedService): Promise<Client> {
  const { service, credentialHeaders } = resolved;
  const client = new Client({ name: 'tollgate-gateway', version: '0.1.0' }, { capabilities: {} });
  const url = service.mcp?.url ?? (service.mcp?.command ? undefined : service.baseUrl ?? undefined);
  const signal = AbortSignal.timeout(CONNECT_TIMEOUT_MS);
  try {
    if (service.mcp?.command) {
      const [command, ...args] = service.mcp.command;
      await client.connect(new StdioClientTransport({
        command: command!,
        args,
        env: { ...getDefaultEnvironment(), TOLLGATE_UPSTREAM_HEADERS: JSON.stringify(credentialHeaders) },
        stderr: 'ignore',
      }), { signal, timeout: CONNECT_TIMEOUT_MS });
    } else if (url) {
      await client.connect(new StreamableHTTPClientTransport(new URL(url), { fetch: upstreamFetch, requestInit: { headers: { ...credentialHeaders } } }), { signal, timeout: CONNECT_TIMEOUT_MS });
    } else {
      throw new TollgateError('not_found', `${service.slug} has no MCP upstream`, { service: service.slug });
    }
  } catch (error) {
    if (error instanceof TollgateError) throw error;
    throw new TollgateError('upstream_failed', `Could not connect to the MCP upstream of ${service.slug}; nothing was charged`, { service: service.slug });
  }
  return client;
}
