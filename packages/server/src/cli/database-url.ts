/**
 * @module cli/database-url
 * Where the CLI and server keep their data: `TOLLGATE_DATABASE_URL` (a `postgres://` URL), else the
 * embedded PGlite folder `.tollgate/data` under the current directory.
 */
export const DEFAULT_DATA_DIR = '.tollgate/data';

export function databaseUrl(flag?: string): string {
  return flag || process.env.TOLLGATE_DATABASE_URL || DEFAULT_DATA_DIR;
}
