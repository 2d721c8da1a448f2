import { randomBytes } from 'node:crypto';
import pg from 'pg';

/** The PostgreSQL the tests run against (CI starts it on 127.0.0.1:5432, trust auth). */
export const ADMIN_URL = process.env.TEST_ADMIN_DATABASE_URL ?? 'postgresql://postgres@127.0.0.1:5432/postgres';

export function urlFor(database: string, user?: string, password?: string): string {
  const u = new URL(ADMIN_URL);
  u.pathname = `/${database}`;
  if (user !== undefined) u.username = user;
  if (password !== undefined) u.password = password;
  return u.toString();
}

export async function adminQuery<R extends pg.QueryResultRow = pg.QueryResultRow>(sql: string, params: unknown[] = []): Promise<pg.QueryResult<R>> {
  const c = new pg.Client({ connectionString: ADMIN_URL });
  await c.connect();
  try {
    return await c.query<R>(sql, params);
  } finally {
    await c.end();
  }
}

export interface TestDatabase {
  readonly name: string;
  readonly url: string;
  drop(): Promise<void>;
}

/** A throwaway database owned by one test file; `drop()` removes it (and kicks its sessions). */
export async function createTestDatabase(prefix = 't'): Promise<TestDatabase> {
  const name = `vh_${prefix}_${randomBytes(4).toString('hex')}`.toLowerCase();
  await adminQuery(`CREATE DATABASE "${name}"`);
  return {
    name,
    url: urlFor(name),
    async drop() {
      await adminQuery(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
    },
  };
}
