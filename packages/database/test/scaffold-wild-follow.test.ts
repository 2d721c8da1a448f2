import { spawn } from 'node:child_process';
import pg from 'pg';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildWildMonolith } from './helpers/drifted-monolith-wild.ts';
import { startLogicalCluster, type LogicalCluster } from './helpers/logical-cluster.ts';
import { copyPackage } from './helpers/package-copy.ts';
import { createTestDatabase } from './helpers/pg.ts';
import { sql } from './helpers/split-fixture.ts';
import { startSourceWriter } from './helpers/source-writer.ts';
import { TableApplier } from '../src/follow/table-applier.ts';
import type { TableMapping } from '../src/split/split-plan.ts';

type VerifyJson = { report: { verify: { ok: boolean; tables: { model: string; sourceRows: number; targetRows: number }[] } } };

describe('split run --follow on a hand-grown monolith: keyless tables and a sixth service', () => {
  let cluster: LogicalCluster;
  beforeAll(async () => {
    cluster = await startLogicalCluster();
  });
  afterAll(async () => {
    await cluster?.stop();
  });

  it('refuses keyless tables without replica identity and generated columns, naming each fix; after the fixes follows a writer, cuts over and verifies equal', async () => {
    const db = await cluster.createDatabase('wild');
    await buildWildMonolith(cluster.url(db));
    const main = await createTestDatabase('scfw_main');
    const auditDb = await createTestDatabase('scfw_audit');
    const pkg = copyPackage();
    const q = (text: string, params: unknown[] = []) => cluster.query(text, params, db);
    const env = { SOURCE_DATABASE_URL: cluster.url(db), DATABASE_URL: main.url, AUDIT_DATABASE_URL: auditDb.url };
    const writer = { stop: async () => undefined as unknown };
    try {
      expect((await pkg.run(['service', 'add', 'audit'])).code).toBe(0);
      const sc = await pkg.run(['split', 'scaffold', '--yes', '--no-generate', '--service', 'audit', '--tables', 'string,Event Log,machine'], env);
      expect(sc.code, sc.stderr + sc.stdout).toBe(0);
      expect((await pkg.run(['migrate'], env)).code).toBe(0);

      const refused = await pkg.run(['split', 'run', '--follow', '--slot', 'wild_slot', '--no-progress'], env);
      expect(refused.code, refused.stderr).toBe(8);
      expect(refused.stderr).toContain('"public"."string" has no primary key and no replica identity');
      expect(refused.stderr).toContain('ALTER TABLE "public"."string" REPLICA IDENTITY FULL;');
      expect(refused.stderr).toContain('"public"."machine" has no primary key and no replica identity');
      expect(refused.stderr).toMatch(/audit_service\.string: key column id is not fed by a source column \(a surrogate key\)[^\n]*REPLICA IDENTITY FULL/);
      expect(refused.stderr).toMatch(/"public"\."routes": generated column total_cost: logical replication does not stream generated columns/);
      expect(await sql(auditDb.url, 'SELECT count(*)::int AS n FROM audit_service.string')).toEqual([{ n: 0 }]);

      await q(`ALTER TABLE public.string REPLICA IDENTITY FULL`);
      await q(`ALTER TABLE public.machine REPLICA IDENTITY USING INDEX machine_serial_key`);
      await q(`ALTER TABLE public.routes ALTER COLUMN total_cost DROP EXPRESSION`);
      const bg = await startSourceWriter(cluster.url(db), 50, 'x');
      writer.stop = () => bg.stop();
      const child = spawn(process.execPath, [join(pkg.root, 'bin', 'vendhub-db.js'), 'split', 'run', '--follow', '--slot', 'wild_slot', '--no-progress'], { cwd: pkg.root, env: { PATH: process.env.PATH ?? '', HOME: '/tmp', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      child.stdout.on('data', (d) => (out += d));
      child.stderr.on('data', (d) => (out += d));
      const exited = new Promise<number | null>((r) => child.on('close', (code) => r(code)));
      const deadline = Date.now() + 90_000;
      while (!/following changes now/.test(out) && Date.now() < deadline && child.exitCode === null) await sleep(100);
      expect(out).toMatch(/following changes now/);

      // Changes to the keyless tables while following: identical duplicates, one of them updated, one deleted.
      await q(`INSERT INTO public.string (key, value) VALUES ('c', 'dup'), ('c', 'dup'), ('c', 'dup'), ('d', NULL)`);
      await q(`UPDATE public.string SET value = 'changed' WHERE ctid = (SELECT ctid FROM public.string WHERE key = 'c' LIMIT 1)`);
      await q(`DELETE FROM public.string WHERE ctid = (SELECT ctid FROM public.string WHERE key = 'a' LIMIT 1)`);
      await q(`UPDATE public.string SET value = 'was null' WHERE key = 'd'`);
      await q(`INSERT INTO public.machine (serial, seen_at) VALUES ('SN-NEW', now())`);
      await q(`UPDATE public.machine SET seen_at = seen_at + interval '1 hour'`);
      await q(`DELETE FROM public.machine WHERE serial = (SELECT min(serial) FROM public.machine)`);
      await q(`INSERT INTO public."Event Log" ("Kind") VALUES ('follow')`);
      await q(`UPDATE public.routes SET fuel_cost = fuel_cost + 1, state = 'on-hold' WHERE code = 'R-1'`);
      await sleep(1_500);
      await writer.stop();

      const cut = await pkg.run(['split', 'cutover', '--slot', 'wild_slot'], env);
      expect(cut.code, cut.stderr + cut.stdout).toBe(0);
      expect(await exited, out).toBe(0);
      const verify = await pkg.run(['split', 'verify', '--json'], env);
      expect(verify.code, verify.stderr + verify.stdout).toBe(0);
      const v = (JSON.parse(verify.stdout) as VerifyJson).report.verify;
      expect(v.ok).toBe(true);
      const rows = Object.fromEntries(v.tables.map((t) => [t.model, t.targetRows]));
      expect(rows).toMatchObject({ StringRecord: 6, MachineRecord: 3, EventLog: 3 });
      expect(await sql(auditDb.url, `SELECT value, count(*)::int AS n FROM audit_service.string WHERE key = 'c' GROUP BY value ORDER BY value`)).toEqual([{ value: 'changed', n: 1 }, { value: 'dup', n: 2 }]);
      expect(await sql(main.url, `SELECT count(*)::int AS n FROM information_schema.schemata WHERE schema_name = 'audit_service'`)).toEqual([{ n: 0 }]);
    } finally {
      await writer.stop();
      await pkg.run(['split', 'abort', '--slot', 'wild_slot'], env).catch(() => undefined);
      pkg.remove();
      await main.drop();
      await auditDb.drop();
    }
  }, 300_000);
});

describe('applying changes to a table whose key no source column feeds', () => {
  it('changes exactly one of identical rows, matches NULLs, and stops (never drops) when no row or no old value matches', async () => {
    const db = await createTestDatabase('scfw_rows');
    const c = new pg.Client({ connectionString: db.url });
    await c.connect();
    try {
      await c.query(`CREATE SCHEMA t; CREATE TABLE t.s (id bigserial PRIMARY KEY, k text, v text);
        INSERT INTO t.s (k, v) VALUES ('c', 'dup'), ('c', 'dup'), ('n', NULL)`);
      const col = (name: string) => ({ field: name, target: name, kind: 'column' as const, source: name, sourceSql: `"${name}"`, sourceType: 'text', targetType: 'text' });
      const mapping: TableMapping = {
        model: 'S', service: 'shared', targetSchema: 't', targetTable: 's', sourceSchema: 'public', sourceTable: 's', columns: [col('k'), col('v')],
        defaulted: ['id'], sourceKey: undefined, targetKey: 'id', dependsOn: [], format: 'text', estimate: 0,
      };
      const a = new TableApplier(mapping, ['id']);
      expect(a.matchesWholeRows).toBe(true);
      await a.applyRow(c, { k: 'c', v: 'dup' }, { k: 'c', v: 'one' });
      await a.applyRow(c, { k: 'n', v: null }, { k: 'n', v: 'set' });
      await a.applyRow(c, null, { k: 'new', v: null });
      await a.deleteRow(c, { k: 'c', v: 'dup' });
      expect((await c.query(`SELECT k, v FROM t.s ORDER BY k, v`)).rows).toEqual([{ k: 'c', v: 'one' }, { k: 'n', v: 'set' }, { k: 'new', v: null }]);
      await expect(a.deleteRow(c, { k: 'c', v: 'dup' })).rejects.toThrow('"t"."s": no row equal to the deleted source row');
      await expect(a.applyRow(c, { k: 'zz', v: 'x' }, { k: 'zz', v: 'y' })).rejects.toThrow('no row equal to the updated source row');
      await expect(a.applyRow(c, { k: 'c' }, { k: 'c', v: 'two' })).rejects.toThrow('carries no old value of v: rows without a key need REPLICA IDENTITY FULL on the source table public.s');
      expect((await c.query(`SELECT count(*)::int AS n FROM t.s`)).rows).toEqual([{ n: 3 }]);
    } finally {
      await c.end();
      await db.drop();
    }
  });
});
