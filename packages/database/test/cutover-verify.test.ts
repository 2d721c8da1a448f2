import { spawn } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PassReport } from '../src/follow/background-verify.ts';
import type { FollowOptions, FollowResult } from '../src/follow/follower.ts';
import { abortFollow, cutover, followSource, startFollowSplit, verifySplit } from './helpers/split-ops.ts';
import { EXIT } from '../src/errors/exit-codes.ts';
import { BIN } from './helpers/cli.ts';
import { type LogicalCluster, startGoldenCluster } from './helpers/logical-cluster.ts';
import { migratedTargets, sql } from './helpers/split-fixture.ts';
import { startSourceWriter, type SourceWriter } from './helpers/source-writer.ts';
import type { Topology } from './helpers/topology.ts';

/**
 * The verified cutover whose freeze does not grow with the data: a background pass on consistent
 * snapshots while following, touched keys recorded with the applied rows, and at the fence a
 * re-verify of only those keys. Each case corrupts a target row where the scheme must see it.
 */

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

let cluster: LogicalCluster;
let golden: string;

beforeAll(async () => {
  ({ cluster, golden } = await startGoldenCluster(13));
});
afterAll(async () => {
  await cluster?.stop();
});

type Q = (text: string, params?: unknown[]) => Promise<Record<string, unknown>[]>;

interface Setup {
  env: Record<string, string>;
  slot: string;
  src: Q;
  machines: Q;
  writer: SourceWriter;
  done(): Promise<void>;
}

async function setup(prefix: string): Promise<Setup> {
  const db = await cluster.createDatabase(prefix, golden);
  const topo: Topology = await migratedTargets('mixed', `cv_${prefix}`);
  const env = { ...(topo.env as Record<string, string>), SOURCE_DATABASE_URL: cluster.url(db) };
  const slot = `cv_${prefix}`;
  await startFollowSplit(env, { chunkRows: 5_000, slot });
  const writer = await startSourceWriter(cluster.url(db), 100, prefix.slice(0, 3));
  return {
    env, slot, writer,
    src: (text, params = []) => cluster.query(text, params, db),
    machines: (t, p = []) => sql(topo.env.MACHINES_DATABASE_URL as string, t, p),
    async done() {
      await writer.stop();
      await abortFollow(env, { slot }).catch(() => {});
      await topo.drop();
    },
  };
}

/** The follower with background verify, in this process; its passes collected. */
function follower(s: Setup, opts: FollowOptions = {}) {
  const ac = new AbortController();
  const passes: PassReport[] = [];
  const done: Promise<FollowResult | Error> = followSource(s.env, {
    slot: s.slot, signal: ac.signal, backgroundVerify: { onPass: (p) => passes.push(p), everyMs: 3_600_000 }, ...opts,
  }).catch((e: Error) => e);
  return { passes, stop: () => ac.abort(), done };
}

async function until<T>(what: string, f: () => T | Promise<T>, ms = 30_000): Promise<NonNullable<T>> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await f();
    if (v) return v as NonNullable<T>;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(100);
  }
}

/** An original telemetry row (the writer only updates and deletes rows it inserted itself). */
async function quietTelemetryRow(s: Setup): Promise<string> {
  return (await s.src(`SELECT id FROM public."MachineTelemetry" ORDER BY "createdAt", id LIMIT 1`))[0]?.id as string;
}

/** A telemetry key recorded as touched by the follower at or after the latest clean pass. */
async function touchedSincePass(s: Setup, id: string): Promise<boolean> {
  const r = await s.machines(`SELECT 1 FROM _vendhub_split.follow_touched t
    WHERE t.slot = $1 AND t.model = 'MachineTelemetry' AND t.key = $2
      AND t.lsn >= (SELECT max(base_lsn) FROM _vendhub_split.verify_passes p WHERE p.slot = $1 AND p.status = 'clean')`, [s.slot, id]);
  return r.length > 0;
}

describe.concurrent('background verify pass while following', () => {
  it('reports a target row corrupted before it (in a range no change touches later), and cutover refuses before fencing', async () => {
    const s = await setup('early');
    try {
      // An original telemetry row: the writer only updates rows it inserted itself.
      const id = (await s.machines(`SELECT id FROM machines_service.machine_telemetry ORDER BY id LIMIT 1`))[0]?.id as string;
      await s.machines(`UPDATE machines_service.machine_telemetry SET temperature = temperature + 1000 WHERE id = $1`, [id]);
      const f = follower(s);
      const pass = await until('the background pass', () => f.passes[0]);
      expect(pass).toMatchObject({ status: 'differences' });
      expect(pass.differences).toEqual([expect.objectContaining({ model: 'MachineTelemetry', changed: [id], missing: [], extra: [] })]);
      // Recorded in the target database, where cutover reads it.
      expect(await s.machines(`SELECT status FROM _vendhub_split.verify_passes WHERE slot = $1`, [s.slot])).toEqual([{ status: 'differences' }]);
      const e = await cutover(s.env, { slot: s.slot }).catch((x: unknown) => x);
      expect(e).toMatchObject({ code: 'VERIFY_MISMATCH', exitCode: EXIT.VERIFY });
      expect((e as Error).message).toContain(`MachineTelemetry`);
      expect((e as Error).message).toContain(`changed ${id}`);
      // Refused before the fence: the writer was never stopped, the follower still runs.
      const ops = s.writer.stats.ops;
      await sleep(400);
      expect(s.writer.stats).toMatchObject({ refused: 0 });
      expect(s.writer.stats.ops).toBeGreaterThan(ops);
      f.stop();
      expect(await f.done).toMatchObject({ reason: 'interrupted' });
    } finally {
      await s.done();
    }
  });

  it('a row corrupted after a clean pass, in a key the follower touched since, is caught inside the freeze; abort reopens the source', async () => {
    const s = await setup('late');
    try {
      const f = follower(s);
      const pass = await until('a clean pass', () => f.passes[0]);
      expect(pass).toMatchObject({ status: 'clean' });
      const id = await quietTelemetryRow(s);
      // Corrupted after the follower applied a change of that key (an update applied after the
      // corruption would rewrite the whole row: pgoutput sends every column).
      await s.src(`UPDATE public."MachineTelemetry" SET humidity = 12.5 WHERE id = $1`, [id]);
      await until('the follower to record the key', () => touchedSincePass(s, id));
      await s.machines(`UPDATE machines_service.machine_telemetry SET temperature = -273 WHERE id = $1`, [id]);
      const e = await cutover(s.env, { slot: s.slot }).catch((x: unknown) => x);
      expect(e).toMatchObject({ code: 'VERIFY_MISMATCH', exitCode: EXIT.VERIFY });
      expect((e as Error).message).toMatch(/keys changed since the background pass/);
      expect((e as Error).message).toContain(`changed ${id}`);
      expect((e as { details: { fenceVerify: { mode: string } } }).details.fenceVerify.mode).toBe('touched-keys');
      // The failure path: the fence stays until `split abort`, which gives the writers back.
      await until('the fence to refuse the writer', () => s.writer.stats.refused > 0);
      await abortFollow(s.env, { slot: s.slot });
      const refused = s.writer.stats.refused;
      const ops = s.writer.stats.ops;
      await sleep(500);
      expect(s.writer.stats.ops).toBeGreaterThan(ops);
      expect(s.writer.stats.refused).toBe(refused);
      expect(await f.done).toMatchObject({ reason: 'slot-released' });
    } finally {
      await s.done();
    }
  });

  it('clean: cutover re-verifies only the keys changed since the pass, inside the freeze, and nothing is lost', async () => {
    const s = await setup('clean');
    // A role that may write to a target table (as a service would once switched).
    const role = `cv_guard_${Math.random().toString(36).slice(2, 8)}`;
    const asRole = (text: string) => s.machines(`SET ROLE ${role}; ${text}`);
    await s.machines(`CREATE ROLE ${role}; GRANT USAGE ON SCHEMA machines_service TO ${role}; GRANT SELECT, UPDATE ON machines_service.machine_telemetry TO ${role}`);
    try {
      const f = follower(s);
      expect(await until('a clean pass', () => f.passes[0])).toMatchObject({ status: 'clean' });
      // While following, only the follower writes to the targets.
      const id = await quietTelemetryRow(s);
      const touch = `UPDATE machines_service.machine_telemetry SET temperature = temperature WHERE id = '${id}'`;
      await expect(asRole(touch)).rejects.toMatchObject({ code: '42501' });
      await until('changes after the pass', async () => (await s.machines(`SELECT count(*)::int AS n FROM _vendhub_split.follow_touched WHERE slot = $1`, [s.slot]))[0]?.n as number > 20);
      const r = await cutover(s.env, { slot: s.slot });
      expect(r.verified).toBe('inside');
      expect(r.verify?.ok).toBe(true);
      expect(r.fenceVerify).toMatchObject({ mode: 'touched-keys', wholeTables: [] });
      expect(r.fenceVerify?.keysVerified).toBeGreaterThan(20);
      expect(r.fenceVerify?.passes.map((p) => p.passId)).toContain(f.passes[0]?.passId);
      expect(await f.done).toMatchObject({ reason: 'slot-released' });
      const w = await s.writer.stop();
      expect(w.errors).toEqual([]);
      // Nothing lost: every row of every table, compared in full after the switch.
      const full = await verifySplit(s.env, {});
      expect(full.tables.filter((t) => !t.ok)).toEqual([]);
      // The cutover gave the targets' write grants back.
      await asRole(touch);
    } finally {
      await s.machines(`DROP OWNED BY ${role}; DROP ROLE ${role}`).catch(() => {});
      await s.done();
    }
  });

  it('kill -9 of the follower after the pass: a change it applied before dying is still re-verified at the fence', async () => {
    const s = await setup('kill');
    const spawnFollower = (args: string[]) => {
      const child = spawn(process.execPath, [BIN, 'split', 'follow', '--slot', s.slot, '--no-progress', ...args], { env: { PATH: process.env.PATH ?? '', HOME: '/tmp', ...s.env }, stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      child.stdout.on('data', (d) => (out += d));
      child.stderr.on('data', (d) => (out += d));
      return { child, output: () => out, exited: new Promise<number | null>((r) => child.on('close', (code) => r(code))) };
    };
    try {
      const first = spawnFollower(['--background-verify']);
      await until('a clean pass', async () => (await s.machines(`SELECT 1 FROM _vendhub_split.verify_passes WHERE slot = $1 AND status = 'clean'`, [s.slot]).catch(() => [])).length > 0);
      // The CLI prints the pass once every target recorded it.
      await until('the pass line', () => /background verify pass \S+ at \S+: source and targets equal/.test(first.output()));
      const id = await quietTelemetryRow(s);
      await s.src(`UPDATE public."MachineTelemetry" SET humidity = 12.5 WHERE id = $1`, [id]);
      await until('the follower to apply the change', () => touchedSincePass(s, id));
      first.child.kill('SIGKILL');
      await first.exited;
      await s.machines(`UPDATE machines_service.machine_telemetry SET temperature = -273 WHERE id = $1`, [id]);
      // Resumed (without a new pass): it re-applies from the slot; the key stays recorded.
      const second = spawnFollower([]);
      await until('the resumed follower to stream', async () => (await s.src(`SELECT 1 FROM pg_replication_slots WHERE slot_name = $1 AND active`, [s.slot])).length > 0);
      expect(await touchedSincePass(s, id)).toBe(true);
      const e = await cutover(s.env, { slot: s.slot }).catch((x: unknown) => x);
      expect(e).toMatchObject({ code: 'VERIFY_MISMATCH', exitCode: EXIT.VERIFY });
      expect((e as Error).message).toContain(`changed ${id}`);
      expect((e as { details: { fenceVerify: { mode: string } } }).details.fenceVerify.mode).toBe('touched-keys');
      expect(await second.exited).toBe(0);
    } finally {
      await s.done();
    }
  });
});
