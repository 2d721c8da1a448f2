import type pg from 'pg';
import { withClient } from '../db/database-handle.ts';
import type { ServiceConfig } from '../config/database-config.ts';
import { wrapPgError } from '../errors/pg-errors.ts';
import { qualified } from '../sql/quote.ts';
import { readMigrations } from './migrations-dir.ts';
import { describeTarget } from './migrate-service.ts';

export interface MigrationStatus {
  readonly service: string;
  readonly schema: string;
  readonly database: string;
  readonly applied: readonly string[];
  /** On disk, not yet applied. */
  readonly pending: readonly string[];
  /** Started and never finished nor rolled back: needs attention before anything else applies. */
  readonly failed: readonly string[];
  /** Applied, but migration.sql on disk no longer matches the checksum recorded when it ran. */
  readonly checksumChanged: readonly string[];
  /** Recorded in the database, absent from disk (applied by another branch or deleted). */
  readonly unknown: readonly string[];
  /** True when nothing is pending, failed, changed or unknown. */
  readonly current: boolean;
}

interface HistoryRow {
  migration_name: string;
  checksum: string;
  finished_at: Date | null;
  rolled_back_at: Date | null;
}

/** Reads `_prisma_migrations` from a connected client; an absent table means nothing applied. */
export async function readHistory(client: pg.ClientBase, schema: string): Promise<HistoryRow[] | undefined> {
  const exists = await client.query<{ t: string | null }>('SELECT to_regclass($1) AS t', [`${qualified(schema, '_prisma_migrations')}`]);
  if (!exists.rows[0]?.t) return undefined;
  const r = await client.query<HistoryRow>(
    `SELECT migration_name, checksum, finished_at, rolled_back_at FROM ${qualified(schema, '_prisma_migrations')} ORDER BY started_at, migration_name`,
  );
  return r.rows;
}

/** Compares the migrations on disk with what the service's history table says. */
export function compareHistory(service: ServiceConfig, rows: HistoryRow[] | undefined): MigrationStatus {
  const disk = readMigrations(service.service.name);
  const byName = new Map(disk.map((m) => [m.name, m]));
  const applied: string[] = [];
  const failed: string[] = [];
  const checksumChanged: string[] = [];
  const unknown: string[] = [];
  const done = new Set<string>();
  for (const row of rows ?? []) {
    if (row.rolled_back_at) continue;
    if (!row.finished_at) {
      failed.push(row.migration_name);
      continue;
    }
    done.add(row.migration_name);
    applied.push(row.migration_name);
    const m = byName.get(row.migration_name);
    if (!m) unknown.push(row.migration_name);
    else if (m.checksum !== row.checksum) checksumChanged.push(row.migration_name);
  }
  const pending = disk.filter((m) => !done.has(m.name) && !failed.includes(m.name)).map((m) => m.name);
  return {
    service: service.service.name,
    schema: service.service.schema,
    database: service.direct.databaseKey,
    applied,
    pending,
    failed,
    checksumChanged,
    unknown,
    current: pending.length + failed.length + checksumChanged.length + unknown.length === 0,
  };
}

/** `vendhub-db status` for one service. */
export async function migrationStatus(cfg: ServiceConfig): Promise<MigrationStatus> {
  return withClient(cfg.direct, { label: describeTarget(cfg) }, async (client) => compareHistory(cfg, await readHistory(client, cfg.service.schema)));
}
