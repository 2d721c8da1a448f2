import type pg from 'pg';
import { parseConnectionUrl, type ParsedConnection } from '../config/connection-url.ts';
import { connectClient, secretOf } from '../db/database-handle.ts';
import { wrapPgError } from '../errors/pg-errors.ts';
import { VendhubError } from '../errors/vendhub-error.ts';
import { engineError } from '../migrate/migrate-service.ts';
import { migrationList } from '../migrate/migrations-dir.ts';
import { NO_FILTERS, openSchemaEngine } from '../migrate/schema-engine.ts';
import { analyzeTables } from './analyze-tables.ts';
import { loadMonolithRows } from './load-monolith-rows.ts';
import { createContext } from './monolith-context.ts';
import { monolithCounts, type MonolithCounts } from './monolith-counts.ts';
import { enableRowLevelSecurity } from './row-level-security.ts';
import { createSupabaseScaffold } from './supabase-scaffold.ts';

export { monolithCounts, type MonolithCounts } from './monolith-counts.ts';

export interface MonolithOptions {
  /** 1 ≈ 10,000 telemetry rows, 100 ≈ 1,000,000; any positive number. */
  scale: number;
  /** Same seed and scale give byte-identical table contents. A safe integer. */
  seed: number;
  /** Transaction rows (out of `monolithCounts(scale).Transaction`) whose machineId names no machine. */
  danglingTransactions?: number;
  /** Called now and then with the rows loaded so far into a table, and once when it is done. */
  onProgress?: (table: string, rows: number) => void;
}

const WHERE = 'monolith source database';

/** COPY streams for the telemetry table, next to the one loading everything else (2 cores here). */
const BIG_TABLE_STREAMS = 2;

/**
 * Builds a Supabase-like VendHub monolith into an EMPTY database: Supabase's roles, schemas
 * (`auth`, `storage`, `extensions`) and grants, the monolith's tables via Prisma's own migration
 * (so `public._prisma_migrations` exists), deterministic realistic rows streamed with COPY,
 * row-level security with policies, then ANALYZE. Needs a superuser (roles, BYPASSRLS, extensions).
 *
 * @example
 *   await createDatabase('vendhub_source');
 *   const { counts } = await buildMonolith('postgresql://postgres@127.0.0.1/vendhub_source', { scale: 100, seed: 7 });
 */
export async function buildMonolith(
  connection: ParsedConnection | string,
  opts: MonolithOptions,
): Promise<{ counts: MonolithCounts; durationMs: number }> {
  const started = performance.now();
  const dangling = validateOptions(opts);
  const counts = monolithCounts(opts.scale);
  const conn = typeof connection === 'string' ? parseMonolithUrl(connection) : connection;
  const secrets = secretOf(conn) ? [secretOf(conn) as string] : [];
  const ctx = createContext(opts.seed, counts, dangling);
  const clients: pg.Client[] = [];
  // A connection the server drops while idle only emits 'error'; the next query on it fails with a
  // bare "not queryable". Keep the first such error: it is the cause worth reporting.
  let lost: { error: unknown } | undefined;
  try {
    for (let i = 0; i <= BIG_TABLE_STREAMS; i++) {
      const c = await connectClient(conn, { label: WHERE });
      c.on('error', (error: unknown) => (lost ??= { error }));
      clients.push(c);
    }
    const [client, ...sides] = clients as [pg.Client, ...pg.Client[]];
    await assertEmpty(client);
    await createSupabaseScaffold(client, ctx);
    await applyMonolithMigration(conn, secrets);
    await loadMonolithRows(client, sides, ctx, opts.onProgress);
    await enableRowLevelSecurity(client);
    await analyzeTables([client, ...sides]);
  } catch (e) {
    throw wrapPgError(lost?.error ?? e, WHERE, secrets);
  } finally {
    await Promise.all(clients.map((c) => c.end().catch(() => {})));
  }
  return { counts, durationMs: Math.round(performance.now() - started) };
}

/** Checks every option and reports all problems in one error; returns the dangling count. */
function validateOptions(opts: MonolithOptions): number {
  const problems: string[] = [];
  if (!Number.isFinite(opts.scale) || opts.scale <= 0) problems.push(`scale must be a positive number (got ${opts.scale})`);
  if (!Number.isSafeInteger(opts.seed)) problems.push(`seed must be a safe integer (got ${opts.seed})`);
  const dangling = opts.danglingTransactions ?? 0;
  if (!Number.isSafeInteger(dangling) || dangling < 0) {
    problems.push(`danglingTransactions must be a non-negative integer (got ${dangling})`);
  } else if (problems.length === 0 && dangling > monolithCounts(opts.scale).Transaction) {
    problems.push(`danglingTransactions (${dangling}) exceeds the ${monolithCounts(opts.scale).Transaction} Transaction rows of scale ${opts.scale}`);
  }
  if (problems.length > 0) throw new VendhubError('USAGE', `Invalid monolith options: ${problems.join('; ')}.`, { details: { problems } });
  return dangling;
}

/** Refuses a database that already holds tables where the monolith goes. */
async function assertEmpty(client: pg.ClientBase): Promise<void> {
  const { rows } = await client.query<{ name: string }>(
    `SELECT n.nspname || '.' || c.relname AS name FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
     WHERE n.nspname IN ('public', 'auth', 'storage') AND c.relkind IN ('r', 'p', 'v', 'm') ORDER BY 1 LIMIT 5`,
  );
  if (rows.length > 0) {
    throw new VendhubError('TARGET_NOT_EMPTY', `${WHERE} is not empty: it already has ${rows.map((r) => r.name).join(', ')}.`, {
      hint: 'Build the monolith into a freshly created database (CREATE DATABASE ...).',
      details: { tables: rows.map((r) => r.name) },
    });
  }
}

/** Runs the committed monolith migration through Prisma's schema engine, history table and all. */
async function applyMonolithMigration(conn: ParsedConnection, secrets: string[]): Promise<void> {
  const handle = await openSchemaEngine(conn, 'public');
  try {
    await handle.engine.applyMigrations({ migrationsList: migrationList('monolith'), filters: NO_FILTERS });
  } catch (e) {
    throw engineError(e, WHERE, secrets);
  } finally {
    await handle.close();
  }
}

/** The monolith's URL, parsed like every other connection (sslmode, password, timeouts). */
function parseMonolithUrl(url: string): ParsedConnection {
  const problems: string[] = [];
  const conn = parseConnectionUrl('the monolith URL', url, {}, problems);
  if (!conn) throw new VendhubError('CONFIG_INVALID', `Invalid monolith URL:\n  - ${problems.join('\n  - ')}`, { details: { problems } });
  return conn;
}
