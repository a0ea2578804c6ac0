/**
 * @module grants/grants
 * Scoped budgets ("pay tokens"). A grant's cap is a limit account in the ledger that every
 * authorization passes through, and revocation closes that account, so "revoked" takes effect for
 * the next hold from any process, atomically with the hold itself. The bearer secret is returned once;
 * only its hash is stored. Nothing is ever deleted.
 */
import type { Db } from '../db/db.ts';
import { invalid, TollgateError } from '../errors.ts';
import { newId } from '../ids.ts';
import { LEDGER, TRANSFER_FLAGS, type Ledger } from '../ledger/types.ts';
import { accountId, SYSTEM_ACCOUNTS, TRANSFER_CODE } from '../limits/accounts.ts';
import type { LimitBook } from '../limits/limit-book.ts';
import { parseMicros } from '../money.ts';
import { generateToken, hashToken, parseToken, tokenHint } from '../tokens/index.ts';
import { parseInput } from '../validate.ts';
import { patternCovers } from './patterns.ts';
import { TtlCache } from '../batching/ttl-cache.ts';
import { configEpoch } from '../batching/config-epoch.ts';
import { CreateGrantSchema, DelegateGrantSchema, type CreateGrantInput, type DelegateGrantInput, type Reapproval } from './schemas.ts';

/**
 * How long a token's grant is reused at most; a change anywhere drops it sooner, within
 * `CONFIG_FRESH_MS` (batching/config-epoch.ts).
 */
export const GRANT_CACHE_MS = 60_000;

/** How deep delegation may go (a grant, its child, grandchild, …). */
export const DELEGATION_DEPTH_MAX = 4;

export type GrantStatus = 'active' | 'revoked' | 'expired' | 'exhausted' | 'scheduled';

export interface Grant {
  id: string;
  tokenHint: string;
  orgId: string;
  projectId: string | null;
  userId: string;
  subject: 'user' | 'org' | 'project';
  agentId: string | null;
  taskId: string | null;
  parentId: string | null;
  depth: number;
  totalCapMicros: bigint;
  perCallCapMicros: bigint | null;
  ratePerMinute: number | null;
  services: string[];
  tools: string[];
  notBefore: Date | null;
  expiresAt: Date | null;
  reapproval: Reapproval;
  tag: string | null;
  metadata: Record<string, unknown>;
  revokedAt: Date | null;
  createdAt: Date;
}

export interface GrantView extends Grant {
  status: GrantStatus;
  spentMicros: bigint;
  heldMicros: bigint;
  remainingMicros: bigint;
}

export interface CreatedGrant {
  grant: Grant;
  /** The bearer token. Shown once: only its hash is stored. */
  token: string;
}

export class Grants {
  readonly #db: Db;
  readonly #ledger: Ledger;
  readonly #limits: LimitBook;
  readonly #now: () => Date;
  /**
   * Grants by token hash. Staleness is safe for revocation anyway: every hold passes the grant's
   * account in the ledger, which refuses it the moment the revocation closes it, in any process.
   */
  readonly #byToken: TtlCache<Grant | null>;

  constructor(options: { db: Db; ledger: Ledger; limits: LimitBook; now: () => Date }) {
    this.#db = options.db;
    this.#byToken = new TtlCache<Grant | null>({ ttlMs: GRANT_CACHE_MS, entriesMax: 100_000, generations: configEpoch(options.db) });
    this.#ledger = options.ledger;
    this.#limits = options.limits;
    this.#now = options.now;
  }

  async create(input: CreateGrantInput): Promise<CreatedGrant> {
    const data = parseInput(CreateGrantSchema, input);
    const [user] = await this.#db.query<{ org_id: string; project_id: string | null; currency: string }>(
      'SELECT u.org_id, u.project_id, o.currency FROM users u JOIN orgs o ON o.id = u.org_id WHERE u.id = $1',
      [data.userId],
    );
    if (!user) throw invalid('userId', `user ${data.userId} does not exist`);
    const projectId = data.projectId ?? user.project_id;
    if (data.subject === 'project' && !projectId) throw invalid('projectId', 'is required when the subject is a project');
    if (data.agentId) await this.#requireAgent(data.agentId, data.userId);
    return this.#insert({
      orgId: user.org_id,
      currency: user.currency,
      projectId,
      userId: data.userId,
      subject: data.subject,
      agentId: data.agentId ?? null,
      taskId: data.taskId ?? null,
      parentId: null,
      depth: 0,
      totalCapMicros: parseMicros(data.totalCap, { field: 'totalCap' }),
      perCallCapMicros: data.perCallCap === undefined ? null : parseMicros(data.perCallCap, { field: 'perCallCap' }),
      ratePerMinute: data.ratePerMinute ?? null,
      services: data.services,
      tools: data.tools ?? [],
      notBefore: data.notBefore ? new Date(data.notBefore) : null,
      expiresAt: data.expiresAt ? new Date(data.expiresAt) : null,
      reapproval: data.reapproval ?? {},
      tag: data.tag ?? null,
      metadata: data.metadata ?? {},
      mode: data.mode,
    });
  }

  /**
   * Creates a child grant from the caller's own token. The child must fit inside what the parent
   * has left (cap, per-call cap, services, tools, window); its spend also counts against the parent,
   * because every hold of the child passes through the parent's accounts too.
   */
  async delegate(parentToken: string, input: DelegateGrantInput): Promise<CreatedGrant> {
    const data = parseInput(DelegateGrantSchema, input);
    const parent = await this.authenticate(parentToken);
    if (parent.depth + 1 > DELEGATION_DEPTH_MAX) throw invalid('parent', `delegation is at most ${DELEGATION_DEPTH_MAX} levels deep`);
    const view = (await this.views([parent]))[0]!;
    const totalCapMicros = parseMicros(data.totalCap, { field: 'totalCap' });
    if (totalCapMicros > view.remainingMicros) throw invalid('totalCap', `exceeds what the parent grant has left (${view.remainingMicros} micro-units)`);
    const perCallCapMicros = data.perCallCap === undefined ? parent.perCallCapMicros : parseMicros(data.perCallCap, { field: 'perCallCap' });
    if (parent.perCallCapMicros !== null && (perCallCapMicros === null || perCallCapMicros > parent.perCallCapMicros)) {
      throw invalid('perCallCap', 'must not exceed the parent grant per-call cap');
    }
    const services = data.services ?? parent.services;
    const outside = services.find((s) => !parent.services.some((p) => patternCovers(p, s)));
    if (outside) throw invalid('services', `${outside} is not allowed by the parent grant`);
    const tools = data.tools ?? parent.tools;
    // An empty tool list means every tool, so under a parent that lists tools the child must list some too.
    if (parent.tools.length > 0) {
      const toolOutside = tools.length === 0 ? '*' : tools.find((t) => !parent.tools.some((p) => patternCovers(p, t)));
      if (toolOutside) throw invalid('tools', `${toolOutside} is not allowed by the parent grant`);
    }
    const expiresAt = data.expiresAt ? new Date(data.expiresAt) : parent.expiresAt;
    if (parent.expiresAt && (!expiresAt || expiresAt > parent.expiresAt)) throw invalid('expiresAt', 'must not be after the parent grant expires');
    if (parent.ratePerMinute !== null && data.ratePerMinute !== undefined && data.ratePerMinute > parent.ratePerMinute) {
      throw invalid('ratePerMinute', 'must not exceed the parent grant rate');
    }
    if (data.agentId) await this.#requireAgent(data.agentId, parent.userId);
    const [org] = await this.#db.query<{ currency: string }>('SELECT currency FROM orgs WHERE id = $1', [parent.orgId]);
    return this.#insert({
      ...parent,
      currency: org!.currency,
      agentId: data.agentId ?? parent.agentId,
      taskId: data.taskId ?? parent.taskId,
      parentId: parent.id,
      depth: parent.depth + 1,
      totalCapMicros,
      perCallCapMicros,
      ratePerMinute: data.ratePerMinute ?? parent.ratePerMinute,
      services,
      tools,
      expiresAt,
      tag: data.tag ?? null,
      metadata: data.metadata ?? {},
      mode: parentToken.startsWith('tg_test_') ? 'test' : 'live',
    });
  }

  /** The grant a bearer token stands for; refuses malformed and unknown tokens alike. */
  async authenticate(token: string): Promise<Grant> {
    const parsed = parseToken(token);
    if (parsed.type !== 'valid') throw new TollgateError('token_invalid', `The token is malformed: ${parsed.reason}`);
    const grant = await this.#byToken.load(hashToken(token), async () => {
      const [row] = await this.#db.query<GrantRow>('SELECT * FROM grants WHERE token_hash = $1', [hashToken(token)]);
      return row ? toGrant(row) : null;
    });
    if (!grant) throw new TollgateError('token_invalid', 'No grant has this token');
    return grant;
  }

  async get(id: string): Promise<GrantView> {
    const [row] = await this.#db.query<GrantRow>('SELECT * FROM grants WHERE id = $1', [id]);
    if (!row) throw new TollgateError('not_found', `grant ${id} does not exist`, { grantId: id });
    return (await this.views([toGrant(row)]))[0]!;
  }

  async list(filter: { userId?: string; orgId?: string; status?: GrantStatus; tag?: string; limit?: number } = {}): Promise<GrantView[]> {
    const limit = Math.min(Math.max(filter.limit ?? 100, 1), 1000);
    const rows = await this.#db.query<GrantRow>(
      `SELECT * FROM grants WHERE ($1::text IS NULL OR user_id = $1) AND ($2::text IS NULL OR org_id = $2) AND ($4::text IS NULL OR tag = $4)
       ORDER BY created_at DESC LIMIT $3`,
      [filter.userId ?? null, filter.orgId ?? null, limit, filter.tag ?? null],
    );
    const views = await this.views(rows.map(toGrant));
    return filter.status ? views.filter((v) => v.status === filter.status) : views;
  }

  /** The grant and its ancestors, nearest first (the grant itself is first). */
  async lineage(grant: Grant): Promise<Grant[]> {
    if (!grant.parentId) return [grant];
    const rows = await this.#db.query<GrantRow>(
      `WITH RECURSIVE up AS (SELECT g.*, 0 AS lvl FROM grants g WHERE id = $1
         UNION ALL SELECT g.*, up.lvl + 1 FROM grants g JOIN up ON g.id = up.parent_id WHERE up.lvl < $2)
       SELECT * FROM up ORDER BY lvl`,
      [grant.id, DELEGATION_DEPTH_MAX + 1],
    );
    return rows.map(toGrant);
  }

  /** Revokes a grant and every descendant. Holds already placed may still settle. */
  async revoke(id: string, reason = 'revoked'): Promise<{ revoked: string[] }> {
    const rows = await this.#db.query<{ id: string }>(
      `WITH RECURSIVE down AS (SELECT id FROM grants WHERE id = $1 UNION ALL SELECT g.id FROM grants g JOIN down ON g.parent_id = down.id)
       UPDATE grants SET revoked_at = coalesce(revoked_at, now()), revoked_reason = coalesce(revoked_reason, $2)
       WHERE id IN (SELECT id FROM down) RETURNING id`,
      [id, reason],
    );
    if (rows.length === 0) throw new TollgateError('not_found', `grant ${id} does not exist`, { grantId: id });
    await this.#closeGrantAccounts(rows.map((r) => r.id));
    configEpoch(this.#db).bump();
    return { revoked: rows.map((r) => r.id) };
  }

  /** The panic button: revokes every grant of a user at once. */
  async panic(userId: string): Promise<{ revoked: string[] }> {
    const rows = await this.#db.query<{ id: string }>(
      `UPDATE grants SET revoked_at = coalesce(revoked_at, now()), revoked_reason = coalesce(revoked_reason, 'panic')
       WHERE user_id = $1 RETURNING id`,
      [userId],
    );
    await this.#closeGrantAccounts(rows.map((r) => r.id));
    configEpoch(this.#db).bump();
    return { revoked: rows.map((r) => r.id) };
  }

  async views(grants: readonly Grant[]): Promise<GrantView[]> {
    const usage = await this.#limits.usage(grants.map((g) => accountId.grantTotal(g.id)));
    const now = this.#now();
    return grants.map((g) => {
      const u = usage.get(accountId.grantTotal(g.id));
      const remainingMicros = u?.remainingMicros ?? g.totalCapMicros;
      return { ...g, status: statusOf(g, remainingMicros, now), spentMicros: u?.usedMicros ?? 0n, heldMicros: u?.heldMicros ?? 0n, remainingMicros };
    });
  }

  async #closeGrantAccounts(grantIds: readonly string[]): Promise<void> {
    // Closing the grant's account refuses every new hold on it, in any process, while holds already
    // placed still post or void. A closing hold with no timeout keeps it shut; transfers are
    // immutable, so the revocation itself is part of the ledger's history.
    for (let i = 0; i < grantIds.length; i += 64) {
      await this.#ledger.createTransfers(
        grantIds.slice(i, i + 64).map((id) => ({
          id: `revoke:${id}`,
          debitAccountId: accountId.grantTotal(id),
          creditAccountId: SYSTEM_ACCOUNTS.limitSink,
          amount: 0n,
          ledger: LEDGER.limits,
          code: TRANSFER_CODE.revoke,
          flags: TRANSFER_FLAGS.pending | TRANSFER_FLAGS.closingDebit,
        })),
      );
    }
  }

  async #requireAgent(agentId: string, userId: string): Promise<void> {
    const [row] = await this.#db.query('SELECT 1 FROM agents WHERE id = $1 AND user_id = $2', [agentId, userId]);
    if (!row) throw invalid('agentId', `agent ${agentId} does not act for user ${userId}`);
  }

  async #insert(g: Omit<Grant, 'id' | 'tokenHint' | 'revokedAt' | 'createdAt'> & { currency: string; mode: 'live' | 'test' }): Promise<CreatedGrant> {
    const id = newId('grant');
    const token = generateToken(g.mode);
    await this.#limits.ensure([{ id: accountId.grantTotal(id), kind: 'grant_total', capMicros: g.totalCapMicros }]);
    const [row] = await this.#db.query<GrantRow>(
      `INSERT INTO grants (id, token_hash, token_hint, org_id, project_id, user_id, subject_kind, agent_id, task_id, parent_id, depth,
         total_cap_micros, per_call_cap_micros, rate_per_minute, services, tools, not_before, expires_at, reapproval, tag, metadata)
       VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14,$15,$16,$17,$18,$19,$20,$21) RETURNING *`,
      [id, hashToken(token), tokenHint(token), g.orgId, g.projectId, g.userId, g.subject, g.agentId, g.taskId, g.parentId, g.depth,
        g.totalCapMicros, g.perCallCapMicros, g.ratePerMinute, JSON.stringify(g.services), JSON.stringify(g.tools), g.notBefore, g.expiresAt,
        JSON.stringify(g.reapproval), g.tag, JSON.stringify(g.metadata)],
    );
    return { grant: toGrant(row!), token };
  }
}

export function statusOf(g: Grant, remainingMicros: bigint, now: Date): GrantStatus {
  if (g.revokedAt) return 'revoked';
  if (g.expiresAt && g.expiresAt <= now) return 'expired';
  if (g.notBefore && g.notBefore > now) return 'scheduled';
  if (remainingMicros <= 0n) return 'exhausted';
  return 'active';
}

export interface GrantRow {
  id: string; token_hint: string; org_id: string; project_id: string | null; user_id: string; subject_kind: Grant['subject'];
  agent_id: string | null; task_id: string | null; parent_id: string | null; depth: number; total_cap_micros: bigint;
  per_call_cap_micros: bigint | null; rate_per_minute: number | null; services: string[]; tools: string[]; not_before: Date | null;
  expires_at: Date | null; reapproval: Reapproval; tag: string | null; metadata: Record<string, unknown>; revoked_at: Date | null; created_at: Date;
}

export function toGrant(r: GrantRow): Grant {
  return {
    id: r.id, tokenHint: r.token_hint, orgId: r.org_id, projectId: r.project_id, userId: r.user_id, subject: r.subject_kind,
    agentId: r.agent_id, taskId: r.task_id, parentId: r.parent_id, depth: r.depth, totalCapMicros: r.total_cap_micros,
    perCallCapMicros: r.per_call_cap_micros, ratePerMinute: r.rate_per_minute, services: r.services, tools: r.tools,
    notBefore: r.not_before, expiresAt: r.expires_at, reapproval: r.reapproval, tag: r.tag, metadata: r.metadata,
    revokedAt: r.revoked_at, createdAt: r.created_at,
  };
}
