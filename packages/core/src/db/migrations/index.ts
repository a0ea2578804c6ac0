/**
 * @module db/migrations
 * The ordered migrations. Each area owns one file; append new ones, never edit a released one.
 */
import type { Migration } from '../migrate.ts';
import { ledger } from './001-ledger.ts';
import { principalsGrants } from './002-principals-grants.ts';
import { approvalsAudit } from './003-approvals-audit.ts';
import { services } from './004-services.ts';
import { mcpUsage } from './005-mcp-usage.ts';
import { usageExportQuotas } from './006-usage-export-quotas.ts';
import { dashboardIndexes } from './007-dashboard-indexes.ts';
import { x402Payments } from './008-x402-payments.ts';
import { mppChallenges } from './009-mpp-challenges.ts';
import { mppChannels } from './010-mpp-channels.ts';
import { mppAnswers } from './011-mpp-answers.ts';
import { configEpoch } from './012-config-epoch.ts';
import { hotUpdates } from './013-hot-updates.ts';

export const MIGRATIONS: readonly Migration[] = [ledger, principalsGrants, approvalsAudit, services, mcpUsage, usageExportQuotas, dashboardIndexes, x402Payments, mppChallenges, mppChannels, mppAnswers, configEpoch, hotUpdates];
