import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadServiceConfig } from '../src/config/database-config.ts';
import { driftCheck } from '../src/migrate/drift.ts';
import { migrationStatus } from '../src/migrate/migration-status.ts';
import { readMigrations } from '../src/migrate/migrations-dir.ts';
import { migrateService } from '../src/migrate/migrate-service.ts';
import { createTestDatabase, type TestDatabase } from './helpers/pg.ts';
import { migrateAll } from './helpers/topology.ts';

describe('migration history, status and drift', () => {
  let db: TestDatabase;
  let client: pg.Client;
  const env = () => ({ DATABASE_URL: db.url });
  beforeAll(async () => {
    db = await createTestDatabase('mig');
    client = new pg.Client({ connectionString: db.url });
    await client.connect();
  });
  afterAll(async () => {
    await client.end();
    await db.drop();
  });

  it('reports everything pending before the first migrate', async () => {
    const s = await migrationStatus(loadServiceConfig('tasks', env()));
    expect(s.current).toBe(false);
    expect(s.pending).toEqual(readMigrations('tasks').map((m) => m.name));
    expect(s.applied).toEqual([]);
  });

  it("writes Prisma's own history format: sha256 checksum, finished, one step", async () => {
    await migrateAll(env());
    const { rows } = await client.query(`SELECT migration_name, checksum, finished_at, applied_steps_count, rolled_back_at FROM tasks_service._prisma_migrations`);
    const disk = readMigrations('tasks');
    expect(rows).toHaveLength(disk.length);
    expect(rows[0].migration_name).toBe(disk[0]?.name);
    expect(rows[0].checksum).toBe(disk[0]?.checksum);
    expect(rows[0].finished_at).toBeInstanceOf(Date);
    expect(rows[0].applied_steps_count).toBe(1);
    expect(rows[0].rolled_back_at).toBeNull();
    expect((await migrationStatus(loadServiceConfig('tasks', env()))).current).toBe(true);
  });

  it('reports a migration edited after it was applied, and one that failed', async () => {
    const name = readMigrations('shared')[0]?.name;
    await client.query(`UPDATE shared._prisma_migrations SET checksum = repeat('0', 64) WHERE migration_name = $1`, [name]);
    await client.query(
      `INSERT INTO shared._prisma_migrations (id, checksum, migration_name, started_at, applied_steps_count) VALUES ('x1', 'abc', '20991231000000_broken', now(), 0)`,
    );
    const s = await migrationStatus(loadServiceConfig('shared', env()));
    expect(s.current).toBe(false);
    expect(s.checksumChanged).toEqual([name]);
    expect(s.failed).toEqual(['20991231000000_broken']);
    // Other services sharing the database are unaffected: their history is their own.
    expect((await migrationStatus(loadServiceConfig('auth', env()))).current).toBe(true);
  });

  it('drift: clean after migrate, then catches a column added by hand', async () => {
    const clean = await driftCheck(loadServiceConfig('machines', env()));
    expect(clean.drifted).toBe(false);
    await client.query('ALTER TABLE machines_service.machines ADD COLUMN firmware text');
    const d = await driftCheck(loadServiceConfig('machines', env()));
    expect(d.drifted).toBe(true);
    expect(d.databaseVsMigrations.extra).toEqual(['column machines.firmware text']);
    expect(d.schemaVsMigrations.extra).toEqual([]);
    expect(d.schemaVsMigrations.missing).toEqual([]);
  });

  it('drift: catches an index dropped by hand', async () => {
    await client.query('DROP INDEX inventory_service.stock_movements_user_id_idx');
    const d = await driftCheck(loadServiceConfig('inventory', env()));
    expect(d.drifted).toBe(true);
    expect(d.databaseVsMigrations.missing.join('\n')).toMatch(/stock_movements_user_id_idx/);
  });

  it('concurrent migrates of one service apply the migration exactly once', async () => {
    const other = await createTestDatabase('migrace');
    try {
      const cfg = loadServiceConfig('auth', { DATABASE_URL: other.url });
      const results = await Promise.all([migrateService(cfg), migrateService(cfg), migrateService(cfg)]);
      expect(results.map((r) => r.applied.length).sort()).toEqual([0, 0, 1]);
    } finally {
      await other.drop();
    }
  });
});
