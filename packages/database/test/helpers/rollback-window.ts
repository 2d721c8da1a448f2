import pg from 'pg';
import { spawnCli, type SpawnedCli } from './cli.ts';
import type { LogicalCluster } from './logical-cluster.ts';
import { migrateAll } from './topology.ts';

// Pieces of the rollback-window tests (cutover --rollback-window, follow-back, rollback), for any
// logical cluster: plain scram (follow-rollback.test.ts) or TLS only (follow-tls-e2e.test.ts).

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export interface LogicalTargets {
  env: Record<string, string>;
  /** Database name by role: main (auth, tasks, shared, or all in 'shared'), machines, inventory. */
  db: { main: string; machines?: string; inventory?: string };
}

/**
 * Migrated targets on the logical cluster (the rollback window streams from them): option 1, or
 * the mix of option 1 and 2. `url` makes each target's URL (default: the cluster's own).
 */
export async function logicalTargets(cluster: LogicalCluster, kind: 'shared' | 'mixed', prefix: string, url: (db: string) => string = (db) => cluster.url(db)): Promise<LogicalTargets> {
  const main = await cluster.createDatabase(`${prefix}_main`);
  if (kind === 'shared') {
    const env = { DATABASE_URL: url(main) };
    await migrateAll(env);
    return { env, db: { main } };
  }
  const machines = await cluster.createDatabase(`${prefix}_machines`);
  const inventory = await cluster.createDatabase(`${prefix}_inv`);
  const env = { DATABASE_URL: url(main), MACHINES_DATABASE_URL: url(machines), INVENTORY_DATABASE_URL: url(inventory) };
  await migrateAll(env);
  return { env, db: { main, machines, inventory } };
}

/** Lets the Supabase role `service_role` write a target schema (so the rollback fence has grants to revoke). */
export async function grantServiceRole(cluster: LogicalCluster, db: string, schema: string): Promise<void> {
  await cluster.query(`GRANT USAGE ON SCHEMA ${schema} TO service_role; GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA ${schema} TO service_role`, [], db);
}

/** Runs one statement as `service_role`: 'written', or the SQLSTATE that refused it. */
export async function asServiceRole(cluster: LogicalCluster, db: string, text: string, params: unknown[] = []): Promise<string> {
  const c = new pg.Client({ connectionString: cluster.url(db) });
  await c.connect();
  try {
    await c.query('SET ROLE service_role');
    await c.query(text, params);
    return 'written';
  } catch (e) {
    return String((e as { code?: string }).code);
  } finally {
    await c.end();
  }
}

/** Slots on the cluster whose name starts with `prefix` (each test uses its own). */
export async function slotNames(cluster: LogicalCluster, prefix: string): Promise<string[]> {
  return (await cluster.query<{ s: string }>('SELECT slot_name AS s FROM pg_replication_slots WHERE starts_with(slot_name, $1) ORDER BY 1', [prefix])).map((r) => r.s);
}

export async function publications(cluster: LogicalCluster, db: string): Promise<number> {
  return Number((await cluster.query<{ n: number }>('SELECT count(*)::int AS n FROM pg_publication', [], db))[0]?.n);
}

/** Resolves once `n` slots named like `pattern` are streamed (active); fails if `proc` exits first. */
export async function untilSlotsActive(cluster: LogicalCluster, pattern: string, n: number, proc: SpawnedCli, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const r = await cluster.query<{ n: number }>(`SELECT count(*)::int AS n FROM pg_replication_slots WHERE slot_name LIKE $1 AND active`, [pattern]);
    if (r[0]?.n === n) return;
    if (proc.child.exitCode !== null || Date.now() > deadline) throw new Error(`${pattern} not streamed: ${proc.output()}`);
    await sleep(50);
  }
}

/** Starts `split follow-back` as a subprocess; resolves once every reverse slot of `slot` is streamed. */
export async function spawnFollowBack(cluster: LogicalCluster, env: Record<string, string>, slot: string, args: string[], slots: number): Promise<SpawnedCli> {
  const back = spawnCli(['split', 'follow-back', '--slot', slot, '--no-progress', ...args], env);
  await untilSlotsActive(cluster, `${slot}_back_%`, slots, back);
  return back;
}

export async function waitFor(what: string, fn: () => Promise<boolean>, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await fn())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

export interface TargetWriter {
  readonly stats: { ops: number; refused: number; errors: string[] };
  stop(): Promise<TargetWriter['stats']>;
}

/**
 * Writes machine telemetry as `service_role` in a target until stopped (ids `<tag><n>`: inserts,
 * some updated, some deleted); counts what the fence refused.
 */
export function startTargetWriter(cluster: LogicalCluster, db: string, machineId: string, tag = 'tw'): TargetWriter {
  const stats = { ops: 0, refused: 0, errors: [] as string[] };
  let stopped = false;
  const loop = (async () => {
    const c = new pg.Client({ connectionString: cluster.url(db) });
    c.on('error', () => {});
    await c.connect();
    await c.query('SET ROLE service_role');
    for (let n = 0; !stopped; n++) {
      try {
        await c.query(`INSERT INTO machines_service.machine_telemetry (id, machine_id, temperature, errors, raw_data) VALUES ($1, $2, $3, '{w}', '{"w": 1}')`, [`${tag}${n}`, machineId, n]);
        if (n % 3 === 2) await c.query(`UPDATE machines_service.machine_telemetry SET temperature = -1 WHERE id = $1`, [`${tag}${n - 1}`]);
        if (n % 5 === 4) await c.query(`DELETE FROM machines_service.machine_telemetry WHERE id = $1`, [`${tag}${n - 2}`]);
        stats.ops++;
      } catch (e) {
        if ((e as { code?: string }).code === '42501') stats.refused++;
        else if (stats.errors.length < 10) stats.errors.push(String((e as Error).message));
      }
      await sleep(15);
    }
    await c.end();
  })();
  return { stats, stop: async () => { stopped = true; await loop; return stats; } };
}
