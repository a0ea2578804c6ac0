export { testDatabases, pgliteTestDatabase, postgresTestDatabase, postgresTestUrl, type TestDatabase, type TestDb } from './databases.ts';
