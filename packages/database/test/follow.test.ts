import { spawn } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BIN, runCli } from './helpers/cli.ts';
import { type LogicalCluster, startGoldenCluster } from './helpers/logical-cluster.ts';
import { startSourceWriter } from './helpers/source-writer.ts';
import { migratedTargets, sql } from './helpers/split-fixture.ts';
import { abortFollow, cutover, followSource, startFollowSplit, verifySplit } from './helpers/split-ops.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

let cluster: LogicalCluster;
let golden: string;

beforeAll(async () => {
  ({ cluster, golden } = await startGoldenCluster(11));
});
afterAll(async () => {
  await cluster?.stop();
});

async function slotsAndPublications(db: string): Promise<{ slots: number; pubs: number }> {
  const r = await cluster.query<{ s: number; p: number }>(`SELECT (SELECT count(*)::int FROM pg_replication_slots) AS s, (SELECT count(*)::int FROM pg_publication) AS p`, [], db);
  return { slots: r[0]?.s ?? -1, pubs: r[0]?.p ?? -1 };
}

/** Starts `split follow` as a subprocess; resolves once it streams (its walsender is active). */
async function spawnFollower(env: Record<string, string>, db: string) {
  const child = spawn(process.execPath, [BIN, 'split', 'follow', '--no-progress'], { env: { PATH: process.env.PATH ?? '', HOME: '/tmp', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (d) => (out += d));
  child.stderr.on('data', (d) => (out += d));
  const exited = new Promise<number | null>((r) => child.on('close', (code) => r(code)));
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    const r = await cluster.query<{ a: boolean }>(`SELECT active AS a FROM pg_replication_slots WHERE slot_name = 'vendhub_split'`, [], db);
    if (r[0]?.a) break;
    if (child.exitCode !== null) throw new Error(`follower exited: ${out}`);
    await sleep(50);
  }
  return { child, exited, output: () => out };
}

describe('split --follow, kill -9 twice, cutover (writer running throughout)', () => {
  it('ends with source and targets equal, and nothing left on the source', async () => {
    const db = await cluster.createDatabase('live', golden);
    const topo = await migratedTargets('mixed', 'fl_live');
    const env = { ...(topo.env as Record<string, string>), SOURCE_DATABASE_URL: cluster.url(db) };
    const writer = await startSourceWriter(cluster.url(db), 150);
    try {
      await sleep(300);
      const started = await startFollowSplit(env, { chunkRows: 2_000, parallel: 2 });
      expect(started.consistentPoint).toMatch(/^[0-9A-F]+\/[0-9A-F]+$/);
      for (let kill = 0; kill < 2; kill++) {
        const f = await spawnFollower(env, db);
        await sleep(1_500);
        f.child.kill('SIGKILL');
        expect(await f.exited).toBeNull();
      }
      // The third follower runs until cutover takes the slot from it, then exits 0.
      const f = await spawnFollower(env, db);
      await sleep(1_000);
      const r = await cutover(env, { writersTimeoutMs: 10_000 });
      expect(await f.exited, f.output()).toBe(0);
      const stats = await writer.stop();
      expect(stats.errors).toEqual([]);
      expect(stats.ops).toBeGreaterThan(300);
      expect(stats.refused).toBeGreaterThan(0); // the fence stopped the writer
      expect(r.verify?.ok).toBe(true);
      expect(r.revoked.length).toBeGreaterThan(0);
      expect(r.environment.some((l) => l.startsWith('MACHINES_DATABASE_URL='))).toBe(true);
      expect((await verifySplit(env, {})).ok).toBe(true);
      expect(await slotsAndPublications(db)).toEqual({ slots: 0, pubs: 0 });
      // Nothing applied twice: the writer's re-inserted keys exist once.
      const dup = await sql<{ n: string }>(topo.env.MACHINES_DATABASE_URL as string, 'SELECT count(*) - count(DISTINCT id) AS n FROM machines_service.machine_telemetry');
      expect(Number(dup[0]?.n)).toBe(0);
    } finally {
      await writer.stop();
      await abortFollow(env).catch(() => {});
      await topo.drop();
    }
  });

  it('CLI: `split run --follow` copies then follows; `split cutover` takes over and prints the freeze and URLs; `split abort` afterwards reopens the source (rollback)', async () => {
    const db = await cluster.createDatabase('cli', golden);
    const topo = await migratedTargets('shared', 'fl_cli');
    const env = { ...(topo.env as Record<string, string>), SOURCE_DATABASE_URL: cluster.url(db) };
    const writer = await startSourceWriter(cluster.url(db), 100, 'c');
    try {
      const run = spawn(process.execPath, [BIN, 'split', 'run', '--follow', '--slot', 'cli_slot', '--no-progress', '--chunk-rows', '1000'], { env: { PATH: process.env.PATH ?? '', HOME: '/tmp', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      run.stdout.on('data', (d) => (out += d));
      run.stderr.on('data', (d) => (out += d));
      const exited = new Promise<number | null>((r) => run.on('close', (code) => r(code)));
      const deadline = Date.now() + 60_000;
      while (!/following changes now/.test(out) && Date.now() < deadline && run.exitCode === null) await sleep(100);
      expect(out).toMatch(/following changes now/);
      await sleep(1_500);
      const bad = await runCli(['split', 'cutover', '--slot', 'cli_slot', '--verify', 'later'], env);
      expect(bad.code).toBe(2);
      expect(bad.stderr).toContain('--verify must be "inside" or "after-switch", got "later"');
      expect(await cluster.query(`SELECT count(*)::int AS n FROM information_schema.table_privileges WHERE grantee = 'service_role' AND privilege_type = 'INSERT'`, [], db)).toEqual(await cluster.query(`SELECT count(*)::int AS n FROM information_schema.table_privileges WHERE grantee = 'service_role' AND privilege_type = 'INSERT'`, [], golden));
      const cut = await runCli(['split', 'cutover', '--slot', 'cli_slot'], env);
      expect(cut.code, cut.stderr + cut.stdout).toBe(0);
      expect(cut.stdout).toMatch(/write freeze: \d+\.\d\d s/);
      expect(cut.stdout).toMatch(/AUTH_DATABASE_URL=postgresql:\/\//);
      expect(await exited, out).toBe(0);
      expect(out).toMatch(/follow stopped \(slot-released\)/);
      await writer.stop();
      expect((await verifySplit(env, {})).ok).toBe(true);
      const again = await runCli(['split', 'abort', '--slot', 'cli_slot', '--json'], env);
      expect(again.code).toBe(0);
      expect(JSON.parse(again.stdout).abort).toMatchObject({ slotDropped: false, publicationDropped: false, wasCutOver: true });
      expect(await slotsAndPublications(db)).toEqual({ slots: 0, pubs: 0 });
    } finally {
      await writer.stop();
      await topo.drop();
    }
  });

  it('`split follow` shows lag and throughput, warns when the slot retains too much WAL, and stops on SIGINT with exit 130', async () => {
    const db = await cluster.createDatabase('prog', golden);
    const topo = await migratedTargets('shared', 'fl_prog');
    const env = { ...(topo.env as Record<string, string>), SOURCE_DATABASE_URL: cluster.url(db) };
    try {
      await startFollowSplit(env, { slot: 'prog_slot' });
      // Push the server's WAL position a segment ahead of what the slot keeps.
      await cluster.query(`INSERT INTO public."AuditLog" (id, action, entity, "entityId") VALUES ('p1', 'a', 'b', 'c')`, [], db);
      await cluster.query('SELECT pg_switch_wal()', [], db);
      await cluster.query(`INSERT INTO public."AuditLog" (id, action, entity, "entityId") VALUES ('p2', 'a', 'b', 'c')`, [], db);
      const child = spawn(process.execPath, [BIN, 'split', 'follow', '--slot', 'prog_slot', '--max-retained-wal', '1'], { env: { PATH: process.env.PATH ?? '', HOME: '/tmp', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      child.stdout.on('data', (d) => (out += d));
      child.stderr.on('data', (d) => (out += d));
      const exited = new Promise<number | null>((r) => child.on('close', (code) => r(code)));
      const deadline = Date.now() + 20_000;
      while (!/warning: the slot prog_slot retains/.test(out) && Date.now() < deadline) await sleep(100);
      expect(out).toMatch(/follow: applied [0-9A-F]+\/[0-9A-F]+, \d+ changes \(\d+\/s\), lag [\d.]+ [kM]B \/ [\d.]+ s/);
      // The warning fires only if the follower sees the slot behind before its own ack catches up
      // (timing-dependent on a loaded machine); otherwise the reported retention must be under the limit.
      if (!/warning: the slot prog_slot retains/.test(out)) expect(out).toMatch(/slot retains [\d.]+ kB/);
      else expect(out).toMatch(/warning: the slot prog_slot retains \d+ MB of WAL on the source \(limit 1 MB\)/);
      child.kill('SIGINT');
      expect(await exited, out).toBe(130);
      expect(out).toMatch(/split follow` to continue/);
      const rows = await sql<{ id: string }>(topo.env.DATABASE_URL as string, `SELECT id FROM auth_service.audit_logs WHERE id IN ('p1', 'p2') ORDER BY id`);
      expect(rows.map((r) => r.id)).toEqual(['p1', 'p2']);
    } finally {
      await abortFollow(env, { slot: 'prog_slot' }).catch(() => {});
      await topo.drop();
    }
  });
});
