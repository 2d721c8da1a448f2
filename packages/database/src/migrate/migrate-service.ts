import { connectClient, secretOf } from '../db/database-handle.ts';
import type { ServiceConfig } from '../config/database-config.ts';
import { redactText } from '../config/redact.ts';
import { wrapPgError } from '../errors/pg-errors.ts';
import { VendhubError } from '../errors/vendhub-error.ts';
import { migrationsDir } from '../paths.ts';
import { migrationList } from './migrations-dir.ts';
import { NO_FILTERS, openSchemaEngine } from './schema-engine.ts';
import { quoteIdent } from '../sql/quote.ts';

export interface MigrateResult {
  readonly service: string;
  readonly schema: string;
  readonly database: string;
  /** Migrations applied by this call, in order; empty when the service was already current. */
  readonly applied: readonly string[];
}

/** Where a service's database is, for messages: never includes credentials. */
export const describeTarget = (cfg: ServiceConfig): string =>
  `${cfg.service.name} service database ${cfg.direct.databaseKey} (${cfg.directSource})`;

/**
 * Applies the service's pending migrations into its own schema, with its own `_prisma_migrations`.
 * Idempotent: a second call applies nothing. Concurrent calls for the same service serialize on an
 * advisory lock, so two deploys racing cannot both apply a migration.
 */
export interface MigrateOptions {
  /** A prisma folder other than the package's (`<service>/migrations/` inside). */
  readonly prismaDir?: string;
}

export async function migrateService(cfg: ServiceConfig, opts: MigrateOptions = {}): Promise<MigrateResult> {
  const where = describeTarget(cfg);
  const secrets = secretOf(cfg.direct) ? [secretOf(cfg.direct) as string] : [];
  const client = await connectClient(cfg.direct, { label: where });
  const schema = cfg.service.schema;
  try {
    // Lock first: concurrent CREATE SCHEMA IF NOT EXISTS can itself fail on a unique violation.
    await client.query('SELECT pg_advisory_lock(hashtext($1))', [`vendhub:migrate:${schema}`]);
    await client.query(`CREATE SCHEMA IF NOT EXISTS ${quoteIdent(schema)}`);
    const handle = await openSchemaEngine(cfg.direct, schema);
    try {
      const out = await handle.engine.applyMigrations({ migrationsList: migrationList(cfg.service.name, migrationsDir(cfg.service.name, opts.prismaDir)), filters: NO_FILTERS });
      return { service: cfg.service.name, schema, database: cfg.direct.databaseKey, applied: out.appliedMigrationNames };
    } catch (e) {
      throw engineError(e, where, secrets);
    } finally {
      await handle.close();
    }
  } catch (e) {
    throw e instanceof VendhubError ? e : wrapPgError(e, where, secrets);
  } finally {
    await client.end().catch(() => {});
  }
}

/** The engine rejects with plain objects or strings; keep their text, minus secrets. */
export function engineError(e: unknown, where: string, secrets: string[]): VendhubError {
  const msg = typeof e === 'object' && e !== null && 'message' in e ? String((e as { message: unknown }).message) : String(e);
  return new VendhubError('MIGRATION_FAILED', `${where}: ${redactText(msg, secrets)}`, {
    cause: e,
    hint: 'Fix the failing migration; `vendhub-db status` shows its state.',
  });
}
