import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { monolithCounts } from '../src/monolith/build-monolith.ts';
import { writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from './helpers/cli.ts';
import { adminQuery, urlFor } from './helpers/pg.ts';
import { migrateAll } from './helpers/topology.ts';
import { buildGolden, migratedTargets, sql, targetRowCount, withSplitEnv, type Golden } from './helpers/split-fixture.ts';
import { runSplit, verifySplit } from './helpers/split-ops.ts';

describe('split a generated monolith', () => {
  let golden: Golden;
  beforeAll(async () => {
    golden = await buildGolden('split', 1, 11, 2);
  });
  afterAll(async () => {
    await golden?.drop();
  });

  it.each(['shared', 'per-service', 'mixed'] as const)('into the %s topology, verified equal', async (kind) => {
    const src = await golden.clone('ok');
    const topo = await migratedTargets(kind, `sp_${kind.replace('-', '')}`);
    try {
      const env = { ...topo.env, SOURCE_DATABASE_URL: src.url };
      const run = await runSplit(env, { chunkRows: 2_000, parallel: 2 });
      const counts = monolithCounts(1);
      expect(run.interrupted).toBe(false);
      expect(Object.fromEntries(run.tables.map((t) => [t.model, t.rows]))).toEqual({ ...counts });
      expect(run.tables.find((t) => t.model === 'MachineTelemetry')?.chunks).toBeGreaterThan(2);
      const v = await verifySplit(env, { parallel: 2 });
      expect(v.ok).toBe(true);
      expect(v.tables.every((t) => t.sourceRows === t.targetRows && t.mismatchedRanges === 0)).toBe(true);
      const dangling = v.softReferences.find((r) => r.reference === 'Transaction.machineId → Machine.id');
      expect(dangling?.danglingRows).toBe(2);
      expect(dangling?.samples).toHaveLength(2);
      expect(v.softReferences.filter((r) => r.reference !== 'Transaction.machineId → Machine.id').every((r) => r.danglingRows === 0)).toBe(true);
      // Values survive exactly: enums arrays, jsonb, non-ASCII text.
      const u = await sql<{ roles: string; email: string }>(src.url, `SELECT "roles"::text AS roles, email FROM "User" ORDER BY id LIMIT 1`);
      const authUrl = topo.env.AUTH_DATABASE_URL ?? topo.env.DATABASE_URL;
      const back = await sql<{ roles: string; email: string }>(authUrl as string, `SELECT roles::text AS roles, email FROM auth_service.users ORDER BY id LIMIT 1`);
      expect(back).toEqual(u);
    } finally {
      await topo.drop();
      await src.drop();
    }
  });

  it('verify narrows a difference down to the changed, missing and extra keys', async () => {
    await withSplitEnv(golden, 'shared', 'sp_vdiff', async (env, topo) => {
      await runSplit(env, { chunkRows: 2_000 });
      const url = topo.env.DATABASE_URL as string;
      const ids = (await sql<{ id: string }>(url, 'SELECT id FROM machines_service.machine_telemetry ORDER BY id LIMIT 3')).map((r) => r.id);
      await sql(url, `UPDATE machines_service.machine_telemetry SET sales = coalesce(sales, 0) + 1 WHERE id = $1`, [ids[0]]);
      await sql(url, `DELETE FROM machines_service.machine_telemetry WHERE id = $1`, [ids[1]]);
      await sql(url, `INSERT INTO machines_service.machine_telemetry (id, machine_id, errors, raw_data) SELECT 'zzz-extra', machine_id, '{}', '{}' FROM machines_service.machine_telemetry LIMIT 1`);
      const v = await verifySplit(env, {});
      expect(v.ok).toBe(false);
      const t = v.tables.find((x) => x.model === 'MachineTelemetry');
      expect(t?.changed).toEqual([ids[0]]);
      expect(t?.missing).toEqual([ids[1]]);
      expect(t?.extra).toEqual(['zzz-extra']);
      expect(v.tables.filter((x) => x.model !== 'MachineTelemetry').every((x) => x.ok)).toBe(true);
    });
  });

  it('--dry-run runs everything up to the first write and writes nothing', async () => {
    const src = await golden.clone('dry');
    const topo = await migratedTargets('per-service', 'sp_dry');
    try {
      const run = await runSplit({ ...topo.env, SOURCE_DATABASE_URL: src.url }, { dryRun: true, chunkRows: 2_000 });
      expect(run.dryRun).toBe(true);
      expect(run.tables.find((t) => t.model === 'MachineTelemetry')?.chunks).toBeGreaterThan(2);
      expect(await targetRowCount(topo)).toBe(0);
    } finally {
      await topo.drop();
      await src.drop();
    }
  });

  it('a plan file renames, transforms and defaults columns; plan prints the whole mapping', async () => {
    const src = await golden.clone('planfile');
    const topo = await migratedTargets('shared', 'sp_planfile');
    try {
      await sql(src.url, 'ALTER TABLE "Machine" RENAME COLUMN "serialNumber" TO "serial"');
      await sql(src.url, 'ALTER TABLE "Location" RENAME TO "Site"');
      const file = join(mkdtempSync(join(tmpdir(), 'vh-pf-')), 'plan.json');
      writeFileSync(file, JSON.stringify({
        tables: {
          Machine: { columns: { serialNumber: { source: 'serial' }, lastPing: { default: true } } },
          Location: { source: 'Site', columns: { address: { expression: 'upper("address")' } } },
        },
        ignore: { columns: { 'Machine.lastPing': 'pings are re-sent by the fleet within a minute' } },
      }));
      const env = { ...(topo.env as Record<string, string>), SOURCE_DATABASE_URL: src.url };
      const plan = await runCli(['split', 'plan', '--plan', file], env);
      expect(plan.code, plan.stderr).toBe(0);
      expect(plan.stdout).toContain('public."Site" (~5 rows) → machines_service.locations');
      expect(plan.stdout).toContain('serial → serial_number');
      expect(plan.stdout).toContain('expr upper("address") → address');
      expect(plan.stdout).toContain('(no source) → last_ping  filled by its default or NULL');
      expect(plan.stdout).toContain('tasks.Task.machineId → machines.Machine.id');
      expect(plan.stdout).toContain('column Machine.lastPing: pings are re-sent');
      expect(plan.stdout).toMatch(/table _prisma_migrations: the monolith's Prisma migration history/);
      expect(plan.stdout).toMatch(/auth: \d+ tables? \(Supabase\/PostgreSQL internal\)/);
      const run = await runCli(['split', 'run', '--plan', file, '--no-progress', '--json'], env);
      expect(run.code, run.stderr).toBe(0);
      expect(JSON.parse(run.stdout).report.verify.ok).toBe(true);
      const url = topo.env.DATABASE_URL as string;
      const a = await sql<{ s: string }>(src.url, 'SELECT string_agg("serial", \',\' ORDER BY id) AS s FROM "Machine"');
      const b = await sql<{ s: string }>(url, "SELECT string_agg(serial_number, ',' ORDER BY id) AS s FROM machines_service.machines");
      expect(b).toEqual(a);
      const addr = await sql<{ n: string }>(url, 'SELECT count(*)::text AS n FROM machines_service.locations WHERE address <> upper(address)');
      expect(addr[0]?.n).toBe('0');
      const pings = await sql<{ n: string }>(url, 'SELECT count(*)::text AS n FROM machines_service.machines WHERE last_ping IS NOT NULL');
      expect(pings[0]?.n).toBe('0');
    } finally {
      await topo.drop();
      await src.drop();
    }
  });

  it('targets sorting text differently from the source still verify equal, and differences are still pinpointed', async () => {
    const src = await golden.clone('coll');
    const name = `vh_coll_${Math.random().toString(36).slice(2, 8)}`;
    await adminQuery(`CREATE DATABASE "${name}" TEMPLATE template0 LC_COLLATE 'C' LC_CTYPE 'C'`);
    const url = urlFor(name);
    try {
      const env = { SOURCE_DATABASE_URL: src.url, DATABASE_URL: url };
      await migrateAll({ DATABASE_URL: url });
      const run = await runSplit(env, { chunkRows: 1_500 });
      expect(run.tables.find((t) => t.model === 'MachineTelemetry')?.chunks).toBeGreaterThan(3);
      expect((await verifySplit(env, {})).ok).toBe(true);
      const id = (await sql<{ id: string }>(url, 'SELECT id FROM machines_service.machine_telemetry ORDER BY id DESC LIMIT 1'))[0]?.id;
      await sql(url, 'UPDATE machines_service.machine_telemetry SET humidity = 1.5 WHERE id = $1', [id]);
      const v = await verifySplit(env, {});
      expect(v.tables.find((t) => t.model === 'MachineTelemetry')?.changed).toEqual([id]);
    } finally {
      await adminQuery(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
      await src.drop();
    }
  });
});
