import { mkdirSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import type { ParsedConnection } from '../config/connection-url.ts';
import { migrationsDir, schemaPath } from '../paths.ts';
import { secretOf } from '../db/database-handle.ts';
import { engineError } from './migrate-service.ts';
import type { ServiceName } from '../services.ts';
import { LOCKFILE, LOCKFILE_CONTENT, migrationList, readMigrations } from './migrations-dir.ts';
import { NO_FILTERS, openSchemaEngine } from './schema-engine.ts';
import { VendhubError } from '../errors/vendhub-error.ts';

export interface CreateMigrationResult {
  readonly service: string;
  /** Folder name of the new migration. */
  readonly created: string;
  readonly sql: string;
}

export interface CreateMigrationOptions {
  /** A prisma folder other than the package's (`<service>/schema.prisma`, `<service>/migrations/`). */
  readonly prismaDir?: string;
  /** The migration's timestamp (folder name prefix). */
  readonly now?: Date;
}

/**
 * Writes a new migration for the difference between the service's migration history and its
 * schema.prisma. With history present, the engine replays it in a temporary shadow database
 * (created and dropped on the service's server, so the role needs CREATEDB; none is left behind,
 * also when the diff fails). Nothing to write is a USAGE error (exit 2), a missing CREATEDB a
 * PRIVILEGE_MISSING one (exit 8), a history that does not replay a MIGRATION_FAILED one (exit 5).
 */
export async function createMigration(
  service: ServiceName | 'monolith',
  name: string,
  conn: ParsedConnection,
  searchPath: string,
  opts: CreateMigrationOptions = {},
): Promise<CreateMigrationResult> {
  if (!/^[a-z0-9_]+$/.test(name)) throw new VendhubError('USAGE', `migration name "${name}" must be lower-case letters, digits and _`);
  const file = schemaPath(service, opts.prismaDir);
  const dir = migrationsDir(service, opts.prismaDir);
  if (!existsSync(file)) throw new VendhubError('USAGE', `${file} does not exist`, { hint: 'Point --prisma-dir at a folder with <service>/schema.prisma.' });
  const datamodel = { path: file, content: readFileSync(file, 'utf8') };
  const where = `${service} (${conn.databaseKey})`;
  const h = await openSchemaEngine(conn, searchPath, datamodel, 'diff');
  let sql: string;
  try {
    const from = readMigrations(service, dir).length === 0 ? ({ tag: 'empty' } as const) : ({ tag: 'migrations', ...migrationList(service, dir) } as const);
    const r = await h.engine.diff({ from, to: { tag: 'schemaDatamodel', files: [datamodel] }, script: true, exitCode: null, filters: NO_FILTERS });
    sql = r.stdout ?? '';
  } catch (e) {
    throw h.shadowFailure() ?? engineError(e, where, secretOf(conn) ? [secretOf(conn) as string] : []);
  } finally {
    await h.close();
  }
  if (!/\S/.test(sql.replace(/^--.*$/gm, ''))) {
    throw new VendhubError('USAGE', `${service}: schema.prisma matches the migrations; there is nothing to write`, {
      hint: `Change ${file} first, then run new-migration again.`,
    });
  }
  const stamp = (opts.now ?? new Date()).toISOString().replace(/[-:T]/g, '').slice(0, 14);
  const folder = `${stamp}_${name}`;
  mkdirSync(join(dir, folder), { recursive: true });
  writeFileSync(join(dir, folder, 'migration.sql'), sql);
  if (!existsSync(join(dir, LOCKFILE))) writeFileSync(join(dir, LOCKFILE), LOCKFILE_CONTENT);
  return { service, created: folder, sql };
}
