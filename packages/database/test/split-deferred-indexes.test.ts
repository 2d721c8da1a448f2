import { spawn } from 'node:child_process';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadDatabaseConfig, type ServiceConfig } from '../src/config/database-config.ts';
import { driftCheck } from '../src/migrate/drift.ts';
import { SERVICES } from '../src/services.ts';
import { BIN, runCli } from './helpers/cli.ts';
import { buildGolden, sql, withSplitEnv, type Golden } from './helpers/split-fixture.ts';
import { migrateAll } from './helpers/topology.ts';
import { verifySplit } from './helpers/split-ops.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function drifted(env: Record<string, string>): Promise<string[]> {
  const cfg = loadDatabaseConfig(env);
  const out: string[] = [];
  for (const s of SERVICES) {
    const d = await driftCheck(cfg[s] as ServiceConfig);
    out.push(...d.databaseVsMigrations.missing.map((f) => `${s}: missing ${f}`), ...d.databaseVsMigrations.extra.map((f) => `${s}: extra ${f}`));
  }
  return out;
}

/** Indexes of the service schemas (what migrate made), per database. */
async function indexCount(url: string): Promise<number> {
  const r = await sql<{ n: string }>(url, `SELECT count(*)::text AS n FROM pg_indexes WHERE schemaname IN ('auth_service','machines_service','inventory_service','tasks_service','shared') AND tablename <> '_prisma_migrations'`);
  return Number(r[0]?.n);
}

function startSplit(env: Record<string, string>, args: string[]) {
  const child = spawn(process.execPath, [BIN, 'split', 'run', '--no-verify', '--no-progress', ...args], {
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', ...env }, stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (d) => (stderr += d));
  child.stdout.resume();
  const exited = new Promise<number | null>((r) => child.on('close', (code) => r(code)));
  return { child, exited, stderr: () => stderr };
}

async function waitFor(what: string, cond: () => Promise<boolean>, ms = 60_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (await cond().catch(() => false)) return;
    await sleep(20);
  }
  throw new Error(`timed out waiting for ${what}`);
}

/** Holds ROW EXCLUSIVE on a table (rows can still be copied in) so that building an index on it waits. */
async function blockIndexBuilds(url: string, table: string): Promise<pg.Client> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  await c.query('BEGIN');
  await c.query(`LOCK TABLE ${table} IN ROW EXCLUSIVE MODE`);
  return c;
}

const waitingIndexBuild = async (url: string, like: string) =>
  Number((await sql<{ n: string }>(url, `SELECT count(*)::text AS n FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query ILIKE $1`, [like]))[0]?.n) > 0;

const deferredStatus = (url: string) =>
  sql<{ name: string; kind: string; status: string; built_at: string | null }>(url, `SELECT name, kind, status, built_at::text FROM _vendhub_split.deferred ORDER BY model, seq`);

/** Ends the server sessions a killed client left behind (the server only notices at its next read). */
async function endOrphans(url: string): Promise<void> {
  await sql(url, `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid() AND backend_type = 'client backend'`);
}

describe('split run builds indexes and constraints after the data (like pg_restore)', () => {
  let golden: Golden;
  beforeAll(async () => {
    golden = await buildGolden('defer', 1, 11, 0);
  });
  afterAll(async () => {
    await golden?.drop();
  });

  it('copies into bare tables, then leaves every target exactly as migrate made it (drift reports nothing)', async () => {
    await withSplitEnv(golden, 'mixed', 'df_ok', async (env, topo) => {
      const before = await Promise.all(topo.databases.map((d) => indexCount(d.url)));
      const r = await runCli(['split', 'run', '--json', '--no-progress'], env, 240_000);
      expect(r.code, r.stderr).toBe(0);
      const out = JSON.parse(r.stdout);
      expect(out.report.verify.ok).toBe(true);
      let recorded = 0;
      for (const [i, d] of topo.databases.entries()) {
        const objs = await deferredStatus(d.url);
        // Every index of the service tables was dropped before the copy and built after it.
        expect(objs.filter((o) => o.kind === 'index').length).toBe(before[i]);
        expect(objs.every((o) => o.status === 'done')).toBe(true);
        recorded += objs.length;
        expect(await indexCount(d.url)).toBe(before[i]);
      }
      expect(out.report.run.indexesBuilt).toBe(recorded);
      expect(await drifted(env)).toEqual([]);
    });
  });

  it('kill -9 while an index is being built: --resume builds only what was left, targets end as migrate made them', async () => {
    await withSplitEnv(golden, 'shared', 'df_kill', async (env, topo) => {
      const url = topo.env.DATABASE_URL as string;
      const run = startSplit(env, ['--parallel', '2', '--chunk-rows', '2000']);
      // Once the indexes are dropped and recorded, hold the telemetry table so its index builds wait.
      await waitFor('the deferred indexes to be recorded', async () => (await deferredStatus(url)).length > 0);
      const lock = await blockIndexBuilds(url, 'machines_service.machine_telemetry');
      try {
        await waitFor('an index build waiting on machine_telemetry and other objects built', async () =>
          (await waitingIndexBuild(url, '%INDEX%machine_telemetry%')) && (await deferredStatus(url)).filter((o) => o.status === 'done').length >= 5);
        run.child.kill('SIGKILL');
        expect(await run.exited).toBeNull();
      } finally {
        await lock.query('ROLLBACK');
        await lock.end();
      }
      await endOrphans(url);
      const mid = await deferredStatus(url);
      const doneBefore = mid.filter((o) => o.status === 'done');
      expect(doneBefore.length).toBeGreaterThan(0);
      expect(mid.some((o) => o.status === 'pending' && o.name.startsWith('machine_telemetry'))).toBe(true);
      // Interrupted: the schema is not yet what migrate made (the proof the copy went into bare tables).
      expect((await drifted(env)).some((d) => d.includes('machine_telemetry_pkey'))).toBe(true);

      const again = await runCli(['split', 'run', '--resume', '--json', '--no-progress'], env, 240_000);
      expect(again.code, again.stderr).toBe(0);
      const out = JSON.parse(again.stdout);
      expect(out.report.verify.ok).toBe(true);
      expect(out.report.run.indexesBuilt).toBe(mid.length - doneBefore.length);
      const after = await deferredStatus(url);
      expect(after.every((o) => o.status === 'done')).toBe(true);
      // What was built before the kill was kept, not built again.
      // A key is two objects of one name (its unique index, then the constraint using it): match the kind too.
      for (const o of doneBefore) expect(after.find((x) => x.name === o.name && x.kind === o.kind)?.built_at).toBe(o.built_at);
      expect(await drifted(env)).toEqual([]);
      expect((await verifySplit(env, {})).ok).toBe(true);
    });
  });

  it('a build that fails (a duplicate key written behind the split\'s back) names the index, exits 9, and resumes once fixed', async () => {
    await withSplitEnv(golden, 'shared', 'df_dup', async (env, topo) => {
      const url = topo.env.DATABASE_URL as string;
      const run = startSplit(env, ['--parallel', '2', '--chunk-rows', '2000']);
      await waitFor('the deferred indexes to be recorded', async () => (await deferredStatus(url)).length > 0);
      const lock = await blockIndexBuilds(url, 'machines_service.machine_telemetry');
      try {
        await waitFor('an index build waiting on machine_telemetry', () => waitingIndexBuild(url, '%INDEX%machine_telemetry%'));
        await lock.query(`INSERT INTO machines_service.machine_telemetry SELECT * FROM machines_service.machine_telemetry LIMIT 1`);
        await lock.query('COMMIT');
      } finally {
        await lock.end();
      }
      const code = await run.exited;
      expect(code, run.stderr()).toBe(9);
      expect(run.stderr()).toMatch(/machine_telemetry_pkey|machine_telemetry_machine_id_created_at_idx/);
      expect(run.stderr()).toMatch(/machine_telemetry/);
      expect(run.stderr()).toMatch(/--resume/);
      await sql(url, `DELETE FROM machines_service.machine_telemetry a USING machines_service.machine_telemetry b WHERE a.id = b.id AND a.ctid > b.ctid`);
      const again = await runCli(['split', 'run', '--resume', '--json', '--no-progress'], env, 240_000);
      expect(again.code, again.stderr).toBe(0);
      expect(JSON.parse(again.stdout).report.verify.ok).toBe(true);
      expect(await drifted(env)).toEqual([]);
    });
  });

  it('a run abandoned after its indexes were dropped: a new run on emptied targets puts them back first', async () => {
    await withSplitEnv(golden, 'shared', 'df_aband', async (env, topo) => {
      const url = topo.env.DATABASE_URL as string;
      const run = startSplit(env, ['--parallel', '2', '--chunk-rows', '2000']);
      await waitFor('some chunks copied', async () => Number((await sql<{ n: string }>(url, `SELECT count(*)::text AS n FROM _vendhub_split.chunks WHERE status = 'done'`))[0]?.n) >= 2);
      run.child.kill('SIGKILL');
      await run.exited;
      await endOrphans(url);
      expect((await drifted(env)).length).toBeGreaterThan(0);
      // The operator empties the targets and starts over instead of resuming.
      const tables = await sql<{ t: string }>(url, `SELECT format('%I.%I', schemaname, tablename) AS t FROM pg_tables WHERE schemaname IN ('auth_service','machines_service','inventory_service','tasks_service','shared') AND tablename <> '_prisma_migrations'`);
      await sql(url, `TRUNCATE ${tables.map((x) => x.t).join(', ')}`);
      const fresh = await runCli(['split', 'run', '--json', '--no-progress'], env, 240_000);
      expect(fresh.code, fresh.stderr).toBe(0);
      expect(fresh.stderr).toMatch(/abandoned run/);
      expect(JSON.parse(fresh.stdout).report.verify.ok).toBe(true);
      expect(await drifted(env)).toEqual([]);
    });
  });

  it('a run abandoned, then the targets dropped and migrated again: the new run does not trip over the old record', async () => {
    await withSplitEnv(golden, 'shared', 'df_remig', async (env, topo) => {
      const url = topo.env.DATABASE_URL as string;
      const run = startSplit(env, ['--parallel', '2', '--chunk-rows', '2000']);
      await waitFor('some chunks copied', async () => Number((await sql<{ n: string }>(url, `SELECT count(*)::text AS n FROM _vendhub_split.chunks WHERE status = 'done'`))[0]?.n) >= 2);
      run.child.kill('SIGKILL');
      await run.exited;
      await endOrphans(url);
      await sql(url, `DROP SCHEMA auth_service, machines_service, inventory_service, tasks_service, shared CASCADE`);
      await migrateAll(topo.env);
      const fresh = await runCli(['split', 'run', '--json', '--no-progress'], env, 240_000);
      expect(fresh.code, fresh.stderr).toBe(0);
      expect(JSON.parse(fresh.stdout).report.verify.ok).toBe(true);
      expect(await drifted(env)).toEqual([]);
    });
  });

  it('--no-defer-indexes copies into the indexed tables and records nothing to build', async () => {
    await withSplitEnv(golden, 'shared', 'df_off', async (env, topo) => {
      const url = topo.env.DATABASE_URL as string;
      const r = await runCli(['split', 'run', '--no-defer-indexes', '--json', '--no-progress'], env, 240_000);
      expect(r.code, r.stderr).toBe(0);
      expect(JSON.parse(r.stdout).report.run.indexesBuilt).toBe(0);
      expect(await deferredStatus(url)).toEqual([]);
      expect(await drifted(env)).toEqual([]);
    });
  });
});
