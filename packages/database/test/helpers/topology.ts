import { loadDatabaseConfig, type Env, type ServiceConfig } from '../../src/config/database-config.ts';
import { migrateService, type MigrateResult } from '../../src/migrate/migrate-service.ts';
import { SERVICES } from '../../src/services.ts';
import { createTestDatabase, type TestDatabase } from './pg.ts';

/** Applies every service's migrations for an environment. */
export async function migrateAll(env: Env): Promise<MigrateResult[]> {
  const cfg = loadDatabaseConfig(env);
  const out: MigrateResult[] = [];
  for (const s of SERVICES) out.push(await migrateService(cfg[s] as ServiceConfig));
  return out;
}

export interface Topology {
  readonly env: Env;
  readonly databases: readonly TestDatabase[];
  drop(): Promise<void>;
}

/** Option 1: one database, a schema per service. */
export async function sharedTopology(prefix: string): Promise<Topology> {
  const db = await createTestDatabase(prefix);
  return { env: { DATABASE_URL: db.url }, databases: [db], drop: () => db.drop() };
}

/** Option 2: a database per service. */
export async function perServiceTopology(prefix: string): Promise<Topology> {
  const env: Record<string, string> = {};
  const dbs: TestDatabase[] = [];
  for (const s of SERVICES) {
    const db = await createTestDatabase(`${prefix}_${s}`);
    dbs.push(db);
    env[`${s.toUpperCase()}_DATABASE_URL`] = db.url;
  }
  return { env, databases: dbs, drop: async () => { for (const d of dbs) await d.drop(); } };
}

/** A mix: machines and inventory in databases of their own, the rest sharing DATABASE_URL. */
export async function mixedTopology(prefix: string): Promise<Topology> {
  const main = await createTestDatabase(`${prefix}_main`);
  const machines = await createTestDatabase(`${prefix}_machines`);
  const inventory = await createTestDatabase(`${prefix}_inv`);
  return {
    env: { DATABASE_URL: main.url, MACHINES_DATABASE_URL: machines.url, INVENTORY_DATABASE_URL: inventory.url },
    databases: [main, machines, inventory],
    drop: async () => { for (const d of [main, machines, inventory]) await d.drop(); },
  };
}
