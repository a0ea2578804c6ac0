/**
 * @module principals/principals
 * Orgs, projects (teams) inside orgs, users in orgs, and agents acting for users. Creating an org
 * or a user also opens its wallet in the ledger, so money has somewhere to be from the start.
 */
import { configEpoch } from '../batching/config-epoch.ts';
import type { Db } from '../db/db.ts';
import { TollgateError } from '../errors.ts';
import { newId } from '../ids.ts';
import type { Ledger } from '../ledger/types.ts';
import { systemAccounts, walletAccount } from '../limits/accounts.ts';
import { parseMicros } from '../money.ts';
import { parseInput } from '../validate.ts';
import {
  CreateAgentSchema,
  CreateOrgSchema,
  CreateProjectSchema,
  CreateUserSchema,
  type CreateAgentInput,
  type CreateOrgInput,
  type CreateProjectInput,
  type CreateUserInput,
  type OrgSettings,
} from './schemas.ts';

export interface Org {
  id: string;
  name: string;
  currency: string;
  monthlyLimitMicros: bigint | null;
  settings: OrgSettings;
  createdAt: Date;
}

export interface Project {
  id: string;
  orgId: string;
  name: string;
  monthlyLimitMicros: bigint | null;
}

export interface User {
  id: string;
  orgId: string;
  projectId: string | null;
  name: string;
  email: string | null;
  monthlyLimitMicros: bigint | null;
}

export interface Agent {
  id: string;
  userId: string;
  name: string;
  trustLevel: 0 | 1 | 2;
}

const optionalMicros = (value: string | null | undefined, field: string) => (value == null ? null : parseMicros(value, { field }));

export class Principals {
  readonly #db: Db;
  readonly #ledger: Ledger;

  constructor(db: Db, ledger: Ledger) {
    this.#db = db;
    this.#ledger = ledger;
  }

  async createOrg(input: CreateOrgInput): Promise<Org> {
    const data = parseInput(CreateOrgSchema, input);
    const id = newId('org');
    const limit = optionalMicros(data.monthlyLimit, 'monthlyLimit');
    await this.#ledger.createAccounts([...systemAccounts(data.currency), walletAccount(id, data.currency)]);
    const [row] = await this.#db.query<OrgRow>(
      'INSERT INTO orgs (id, name, currency, monthly_limit_micros, settings) VALUES ($1, $2, $3, $4, $5) RETURNING *',
      [id, data.name, data.currency, limit, JSON.stringify(data.settings ?? {})],
    );
    return toOrg(row!);
  }

  async getOrg(id: string): Promise<Org> {
    const [row] = await this.#db.query<OrgRow>('SELECT * FROM orgs WHERE id = $1', [id]);
    if (!row) throw new TollgateError('not_found', `org ${id} does not exist`, { orgId: id });
    return toOrg(row);
  }

  async listOrgs(): Promise<Org[]> {
    return (await this.#db.query<OrgRow>('SELECT * FROM orgs ORDER BY created_at LIMIT 1000')).map(toOrg);
  }

  async updateOrgSettings(id: string, settings: OrgSettings): Promise<Org> {
    const [row] = await this.#db.query<OrgRow>('UPDATE orgs SET settings = $2 WHERE id = $1 RETURNING *', [id, JSON.stringify(settings)]);
    if (!row) throw new TollgateError('not_found', `org ${id} does not exist`, { orgId: id });
    configEpoch(this.#db).bump();
    return toOrg(row);
  }

  async createProject(input: CreateProjectInput): Promise<Project> {
    const data = parseInput(CreateProjectSchema, input);
    await this.getOrg(data.orgId);
    const [row] = await this.#db.query<ProjectRow>(
      'INSERT INTO projects (id, org_id, name, monthly_limit_micros) VALUES ($1, $2, $3, $4) RETURNING *',
      [newId('prj'), data.orgId, data.name, optionalMicros(data.monthlyLimit, 'monthlyLimit')],
    );
    return toProject(row!);
  }

  async createUser(input: CreateUserInput): Promise<User> {
    const data = parseInput(CreateUserSchema, input);
    const org = await this.getOrg(data.orgId);
    if (data.projectId) await this.#requireProject(data.projectId, org.id);
    const id = newId('usr');
    await this.#ledger.createAccounts([walletAccount(id, org.currency)]);
    const [row] = await this.#db.query<UserRow>(
      'INSERT INTO users (id, org_id, project_id, name, email, monthly_limit_micros) VALUES ($1, $2, $3, $4, $5, $6) RETURNING *',
      [id, org.id, data.projectId ?? null, data.name, data.email ?? null, optionalMicros(data.monthlyLimit, 'monthlyLimit')],
    );
    return toUser(row!);
  }

  async getUser(id: string): Promise<User> {
    const [row] = await this.#db.query<UserRow>('SELECT * FROM users WHERE id = $1', [id]);
    if (!row) throw new TollgateError('not_found', `user ${id} does not exist`, { userId: id });
    return toUser(row);
  }

  async listUsers(orgId: string): Promise<User[]> {
    return (await this.#db.query<UserRow>('SELECT * FROM users WHERE org_id = $1 ORDER BY created_at LIMIT 1000', [orgId])).map(toUser);
  }

  async createAgent(input: CreateAgentInput): Promise<Agent> {
    const data = parseInput(CreateAgentSchema, input);
    await this.getUser(data.userId);
    const [row] = await this.#db.query<AgentRow>(
      'INSERT INTO agents (id, user_id, name, trust_level) VALUES ($1, $2, $3, $4) RETURNING *',
      [newId('agt'), data.userId, data.name, data.trustLevel],
    );
    return toAgent(row!);
  }

  async getAgent(id: string): Promise<Agent | undefined> {
    const [row] = await this.#db.query<AgentRow>('SELECT * FROM agents WHERE id = $1', [id]);
    return row ? toAgent(row) : undefined;
  }

  async #requireProject(projectId: string, orgId: string): Promise<void> {
    const [row] = await this.#db.query<ProjectRow>('SELECT * FROM projects WHERE id = $1 AND org_id = $2', [projectId, orgId]);
    if (!row) throw new TollgateError('invalid_request', `projectId: project ${projectId} is not in org ${orgId}`, { field: 'projectId' });
  }
}

interface OrgRow { id: string; name: string; currency: string; monthly_limit_micros: bigint | null; settings: OrgSettings; created_at: Date }
interface ProjectRow { id: string; org_id: string; name: string; monthly_limit_micros: bigint | null }
interface UserRow { id: string; org_id: string; project_id: string | null; name: string; email: string | null; monthly_limit_micros: bigint | null }
interface AgentRow { id: string; user_id: string; name: string; trust_level: number }

const toOrg = (r: OrgRow): Org => ({ id: r.id, name: r.name, currency: r.currency, monthlyLimitMicros: r.monthly_limit_micros, settings: r.settings, createdAt: r.created_at });
const toProject = (r: ProjectRow): Project => ({ id: r.id, orgId: r.org_id, name: r.name, monthlyLimitMicros: r.monthly_limit_micros });
const toUser = (r: UserRow): User => ({ id: r.id, orgId: r.org_id, projectId: r.project_id, name: r.name, email: r.email, monthlyLimitMicros: r.monthly_limit_micros });
const toAgent = (r: AgentRow): Agent => ({ id: r.id, userId: r.user_id, name: r.name, trustLevel: r.trust_level as 0 | 1 | 2 });
