import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildMonolith } from '../src/monolith/build-monolith.ts';
import { runCli, spawnCli, type CliResult, type SpawnedCli } from './helpers/cli.ts';
import { CLUSTER_PASSWORD, startLogicalCluster, type LogicalCluster } from './helpers/logical-cluster.ts';
import { grantServiceRole, logicalTargets, spawnFollowBack, startTargetWriter, untilSlotsActive, waitFor, type TargetWriter } from './helpers/rollback-window.ts';
import { startSourceWriter, type SourceWriter } from './helpers/source-writer.ts';

// The near-zero-downtime path end to end against a server like a managed cloud database: TLS only
// (hostssl), scram-sha-256, a password with URL-special characters. The source URL verifies the
// certificate (sslmode=verify-full&sslrootcert=…), the target's only encrypts (sslmode=require).
let cluster: LogicalCluster;
let golden: string;

beforeAll(async () => {
  cluster = await startLogicalCluster({ tls: true });
  golden = await cluster.createDatabase('gold');
  await buildMonolith(cluster.url(golden), { scale: 0.3, seed: 21, danglingTransactions: 0 });
});
afterAll(async () => {
  await cluster?.stop();
});

const q = <R extends Record<string, unknown>>(db: string, text: string, params: unknown[] = []) => cluster.query<R>(text, params, db);

/** Rows as text lines, sorted: what one side holds of a set of rows. */
async function rowSet(db: string, sql: string): Promise<string[]> {
  return (await q<{ r: string }>(db, `SELECT x::text AS r FROM (${sql}) x`)).map((x) => x.r).sort();
}

describe('TLS only + scram: split run --follow, kill -9 and resume, cutover --rollback-window, follow-back, rollback', () => {
  it('loses nothing the writers wrote, in either direction, and prints no password anywhere', async () => {
    const src = await cluster.createDatabase('e2e', golden);
    const t = await logicalTargets(cluster, 'shared', 'e2e_t', (db) => cluster.url(db, 'postgres', { sslmode: 'require' }));
    const target = t.db.main;
    const sourceUrl = cluster.url(src);
    expect(sourceUrl).toMatch(/sslmode=verify-full&sslrootcert=/);
    expect(t.env.DATABASE_URL).toMatch(/sslmode=require$/);
    const env = { ...t.env, SOURCE_DATABASE_URL: sourceUrl };
    const slot = 'e2e_slot';
    await grantServiceRole(cluster, target, 'machines_service');
    const reports = mkdtempSync(join(tmpdir(), 'vh-e2e-reports-'));
    const outputs: string[] = [];
    const seen = (r: CliResult) => (outputs.push(r.stdout, r.stderr), r);
    const procs: SpawnedCli[] = [];
    const spawned = (p: SpawnedCli) => (procs.push(p), p);
    let writer: SourceWriter | undefined;
    let back: TargetWriter | undefined;
    const written = (db: string, table: string) => rowSet(db, `SELECT id, temperature, sales, errors FROM ${table} WHERE id LIKE 'e2e%'`);
    try {
      // Writes into the source from before the copy until the cutover fence stops them.
      writer = await startSourceWriter(sourceUrl, 150, 'e2e');
      const run = spawned(spawnCli(['split', 'run', '--follow', '--slot', slot, '--no-progress', '--chunk-rows', '500'], env));
      await untilSlotsActive(cluster, slot, 1, run, 60_000);
      const streamedRows = async (n: number) => Number((await q<{ n: number }>(target, `SELECT count(*)::int AS n FROM machines_service.machine_telemetry WHERE id LIKE 'e2e%'`))[0]?.n) >= n;
      const have = async () => Number((await q<{ n: number }>(target, `SELECT count(*)::int AS n FROM machines_service.machine_telemetry WHERE id LIKE 'e2e%'`))[0]?.n);
      // The slot is active while its snapshot is exported (during the copy), and the copy itself brings
      // the writer's earlier rows: wait for the follow state the copy records at its end, then for rows
      // that only the stream can have brought.
      const following = async () => (await q(target, `SELECT 1 FROM pg_tables WHERE schemaname = '_vendhub_split' AND tablename = 'follow_state'`)).length === 1
        && (await q(target, `SELECT 1 FROM _vendhub_split.follow_state WHERE slot = $1`, [slot])).length === 1;
      await waitFor('split run --follow done copying and following', following, 120_000);
      const copied = await have();
      await waitFor('changes streamed by split run --follow', async () => streamedRows(copied + 2), 60_000);

      // kill -9 the follower mid-stream, twice (split run --follow, then a resumed split follow): each resumes where the targets stopped.
      for (const _ of [1, 2]) {
        const follower = procs[procs.length - 1] as SpawnedCli;
        follower.child.kill('SIGKILL');
        expect(await follower.exited).toBeNull();
        await waitFor('the slot released', async () => (await cluster.query(`SELECT 1 FROM pg_replication_slots WHERE slot_name = $1 AND active`, [slot])).length === 0, 60_000);
        const before = await have();
        const resumed = spawned(spawnCli(['split', 'follow', '--slot', slot, '--no-progress'], env));
        await untilSlotsActive(cluster, slot, 1, resumed, 60_000);
        await waitFor('changes streamed after the resume', async () => streamedRows(before + 2), 60_000);
      }

      const cut = seen(await runCli(['split', 'cutover', '--slot', slot, '--rollback-window', '--json'], env, 120_000));
      expect(cut.code, cut.stdout + cut.stderr).toBe(0);
      const cutJson = JSON.parse(cut.stdout);
      expect(cutJson.cutover.verify.ok).toBe(true);
      const follower = procs[procs.length - 1] as SpawnedCli;
      expect(await follower.exited, follower.output()).toBe(0);
      const sourceStats = await writer.stop();
      expect(sourceStats.errors).toEqual([]);
      expect(sourceStats.transactions).toBeGreaterThan(30);
      expect(sourceStats.refused).toBeGreaterThan(0); // the fence stopped it
      // Every row the writer left in the source is in the target, as written.
      const forward = await written(src, 'public."MachineTelemetry"');
      expect(forward.length).toBeGreaterThan(10);
      expect(await written(target, 'machines_service.machine_telemetry')).toEqual(forward);

      // The rollback window: the services write to the target; follow-back brings it to the monolith.
      const machine = (await q<{ id: string }>(target, `SELECT id FROM machines_service.machines ORDER BY id LIMIT 1`))[0]?.id as string;
      const reverse = spawned(await spawnFollowBack(cluster, env, slot, [], 1));
      back = startTargetWriter(cluster, target, machine, 'rbk');
      await waitFor('target writes in the monolith', async () => (await q(src, `SELECT 1 FROM public."MachineTelemetry" WHERE id LIKE 'rbk%' LIMIT 1`)).length === 1, 60_000);
      await new Promise((r) => setTimeout(r, 1_000));
      const rb = seen(await runCli(['split', 'rollback', '--slot', slot], env, 120_000));
      expect(rb.code, rb.stdout + rb.stderr).toBe(0);
      expect(await reverse.exited, reverse.output()).toBe(0);
      const targetStats = await back.stop();
      expect(targetStats.errors).toEqual([]);
      expect(targetStats.ops).toBeGreaterThan(10);
      expect(targetStats.refused).toBeGreaterThan(0); // the rollback fenced the target
      const backRows = await rowSet(target, `SELECT id, temperature FROM machines_service.machine_telemetry WHERE id LIKE 'rbk%'`);
      expect(backRows.length).toBeGreaterThan(5);
      expect(await rowSet(src, `SELECT id, temperature FROM public."MachineTelemetry" WHERE id LIKE 'rbk%'`)).toEqual(backRows);
      expect(await written(src, 'public."MachineTelemetry"')).toEqual(await written(target, 'machines_service.machine_telemetry'));

      const v = seen(await runCli(['split', 'verify', '--json', '--report-dir', reports], env, 120_000));
      expect(v.code, v.stdout + v.stderr).toBe(0);
      const end = seen(await runCli(['split', 'end-rollback-window', '--slot', slot, '--json'], env));
      expect(end.code, end.stdout + end.stderr).toBe(0);
    } finally {
      await writer?.stop();
      await back?.stop();
      for (const p of procs) if (p.child.exitCode === null) p.child.kill('SIGKILL');
    }
    // No password, raw or URL-encoded, in any output, --json or report.
    const files = readdirSync(reports).map((f) => readFileSync(join(reports, f), 'utf8'));
    expect(files.length).toBe(2);
    const everything = [...outputs, ...procs.map((p) => p.output()), ...files];
    expect(everything.join('').length).toBeGreaterThan(1_000);
    for (const text of everything) {
      expect(text).not.toContain(CLUSTER_PASSWORD);
      expect(text).not.toContain(encodeURIComponent(CLUSTER_PASSWORD));
    }
  }, 300_000); // ~35 s on an idle machine; generous for a loaded one (no timing is asserted)
});
