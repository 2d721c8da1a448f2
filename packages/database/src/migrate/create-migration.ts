import { mkdirSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import type { ParsedConnection } from '../config/connection-url.ts';
import { migrationsDir, schemaPath } from '../paths.ts';
import type { ServiceName } from '../services.ts';
import { LOCKFILE, LOCKFILE_CONTENT, migrationList, readMigrations } from './migrations-dir.ts';
import { NO_FILTERS, openSchemaEngine } from './schema-engine.ts';
import { VendhubError } from '../errors/vendhub-error.ts';

export interface CreateMigrationResult {
  readonly service: string;
  /** Folder name of the new migration, or undefined when schema.prisma matches the history. */
  readonly created: string | undefined;
  readonly sql: string;
}

/**
 * Writes a new migration for the difference between the service's migration history and its
 * schema.prisma. With history present, the engine replays it in a temporary shadow database
 * (created and dropped through `pool`, which needs CREATEDB).
 */
export async function createMigration(
  service: ServiceName | 'monolith',
  name: string,
  conn: ParsedConnection,
  searchPath: string,
  now = new Date(),
): Promise<CreateMigrationResult> {
  if (!/^[a-z0-9_]+$/.test(name)) throw new VendhubError('USAGE', `migration name "${name}" must be lower-case letters, digits and _`);
  const file = schemaPath(service);
  const datamodel = { path: file, content: readFileSync(file, 'utf8') };
  const h = await openSchemaEngine(conn, searchPath, datamodel, 'diff');
  let sql: string;
  try {
    const from = readMigrations(service).length === 0 ? ({ tag: 'empty' } as const) : ({ tag: 'migrations', ...migrationList(service) } as const);
    const r = await h.engine.diff({ from, to: { tag: 'schemaDatamodel', files: [datamodel] }, script: true, exitCode: null, filters: NO_FILTERS });
    sql = r.stdout ?? '';
  } finally {
    await h.close();
  }
  if (!/\S/.test(sql.replace(/^--.*$/gm, '')) ) return { service, created: undefined, sql: '' };
  const stamp = now.toISOString().replace(/[-:T]/g, '').slice(0, 14);
  const folder = `${stamp}_${name}`;
  const dir = migrationsDir(service);
  mkdirSync(join(dir, folder), { recursive: true });
  writeFileSync(join(dir, folder, 'migration.sql'), sql);
  if (!existsSync(join(dir, LOCKFILE))) writeFileSync(join(dir, LOCKFILE), LOCKFILE_CONTENT);
  return { service, created: folder, sql };
}
