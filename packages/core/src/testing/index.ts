export { testDatabases, pgliteTestDatabase, postgresTestDatabase, postgresTestUrl, type TestDatabase, type TestDb } from './databases.ts';
export { seedBuyer, testService, grantFor, callRequest, type Buyer } from './fixtures.ts';
export { assertLedgerHealthy, assertTollgateHealthy } from './invariants.ts';
