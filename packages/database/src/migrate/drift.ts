import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type pg from 'pg';
import { connectClient, secretOf } from '../db/database-handle.ts';
import type { ServiceConfig } from '../config/database-config.ts';
import { diffSnapshots, snapshotSchema, type SnapshotDiff } from '../catalog/schema-snapshot.ts';
import { wrapPgError } from '../errors/pg-errors.ts';
import { VendhubError } from '../errors/vendhub-error.ts';
import { migrationsDir, schemaPath } from '../paths.ts';
import { quoteIdent } from '../sql/quote.ts';
import { readMigrations } from './migrations-dir.ts';
import { describeTarget, type MigrateOptions } from './migrate-service.ts';
import { diffFromEmpty } from './schema-engine.ts';

export interface DriftReport {
  readonly service: string;
  readonly schema: string;
  readonly database: string;
  /** schema.prisma describes something the migrations do not create: a migration is missing. */
  readonly schemaVsMigrations: SnapshotDiff;
  /** The live schema differs from what the migrations create: someone changed it by hand. */
  readonly databaseVsMigrations: SnapshotDiff;
  readonly drifted: boolean;
}

/**
 * Three-way drift check. The migrations and schema.prisma are each materialised in a scratch
 * database (created and dropped on the service's server, so it needs CREATEDB) and compared, fact
 * by fact, with each other and with the live schema. Prisma's engine can do a two-way version of
 * this, but its introspection through the WebAssembly build cannot read every catalog type here.
 */
export async function driftCheck(cfg: ServiceConfig, opts: MigrateOptions = {}): Promise<DriftReport> {
  const where = describeTarget(cfg);
  const secrets = secretOf(cfg.direct) ? [secretOf(cfg.direct) as string] : [];
  const schema = cfg.service.schema;
  const file = schemaPath(cfg.service.name, opts.prismaDir);
  const modelSql = await diffFromEmpty(cfg.direct, schema, { path: file, content: readFileSync(file, 'utf8') });
  const admin = await connectClient(cfg.direct, { label: where });
  const scratch = `vendhub_drift_${randomBytes(5).toString('hex')}`;
  try {
    const live = await snapshotSchema(admin, schema);
    try {
      await admin.query(`CREATE DATABASE ${quoteIdent(scratch)}`);
    } catch (e) {
      throw new VendhubError('PRIVILEGE_MISSING', `${where}: drift needs to create a scratch database and could not`, {
        cause: e, hint: 'Run drift with a role that has CREATEDB (for example through <SERVICE>_DIRECT_URL).',
      });
    }
    let sc: pg.Client | undefined;
    try {
      sc = await connectClient(cfg.direct, { label: where, database: scratch });
      for (const m of readMigrations(cfg.service.name, migrationsDir(cfg.service.name, opts.prismaDir))) await sc.query(m.sql);
      const fromMigrations = await snapshotSchema(sc, schema);
      await sc.query(`DROP SCHEMA IF EXISTS ${quoteIdent(schema)} CASCADE`);
      await sc.query(modelSql);
      const fromModel = await snapshotSchema(sc, schema);
      const schemaVsMigrations = diffSnapshots(fromMigrations, fromModel);
      const databaseVsMigrations = diffSnapshots(fromMigrations, live);
      const drifted = [schemaVsMigrations, databaseVsMigrations].some((d) => d.extra.length + d.missing.length > 0);
      return { service: cfg.service.name, schema, database: cfg.direct.databaseKey, schemaVsMigrations, databaseVsMigrations, drifted };
    } finally {
      await sc?.end().catch(() => {});
      await admin.query(`DROP DATABASE IF EXISTS ${quoteIdent(scratch)} WITH (FORCE)`).catch(() => {});
    }
  } catch (e) {
    throw wrapPgError(e, where, secrets);
  } finally {
    await admin.end().catch(() => {});
  }
}
