import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FENCE_MESSAGE_PREFIX } from '../src/follow/follow-names.ts';
import { type FollowOptions, type FollowResult } from '../src/follow/follower.ts';
import type { PlanFile } from '../src/split/plan-file.ts';
import { EXIT } from '../src/errors/exit-codes.ts';
import { type LogicalCluster, startGoldenCluster } from './helpers/logical-cluster.ts';
import { migratedTargets, sql } from './helpers/split-fixture.ts';
import { startSourceWriter, type SourceWriter } from './helpers/source-writer.ts';
import type { Topology } from './helpers/topology.ts';
import { abortFollow, cutover, followSource, startFollowSplit, verifySplit } from './helpers/split-ops.ts';

/**
 * What production does to a follow that runs for days: a deploy migrates the monolith, a key
 * changes, a target or the replication connection drops, PostgreSQL invalidates the slot or
 * someone recreates it. Each case on a wal_level=logical cluster with a writer running.
 */

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

let cluster: LogicalCluster;
let golden: string;

beforeAll(async () => {
  ({ cluster, golden } = await startGoldenCluster(9));
});
afterAll(async () => {
  await cluster?.stop();
});

type Q = (text: string, params?: unknown[]) => Promise<Record<string, unknown>[]>;

interface Setup {
  db: string;
  topo: Topology;
  env: Record<string, string>;
  slot: string;
  src: Q;
  machines: Q;
  writer?: SourceWriter;
  done(): Promise<void>;
}

async function setup(prefix: string, withWriter = true): Promise<Setup> {
  const db = await cluster.createDatabase(prefix, golden);
  const topo = await migratedTargets('mixed', `fo_${prefix}`);
  const env = { ...(topo.env as Record<string, string>), SOURCE_DATABASE_URL: cluster.url(db) };
  const src: Q = (text, params = []) => cluster.query(text, params, db);
  const slot = `o_${prefix}`;
  await startFollowSplit(env, { chunkRows: 5_000, slot });
  const writer = withWriter ? await startSourceWriter(cluster.url(db), 100, prefix.slice(0, 3)) : undefined;
  const s: Setup = {
    db, topo, env, src, slot, ...(writer ? { writer } : {}),
    machines: (t, p = []) => sql(topo.env.MACHINES_DATABASE_URL as string, t, p),
    async done() {
      await writer?.stop();
      await abortFollow(env, { slot }).catch(() => {});
      await topo.drop();
    },
  };
  return s;
}

/** Runs the follower in the background until stopped; resolves to its result or its error. */
function background(s: Setup, opts: FollowOptions = {}) {
  const ac = new AbortController();
  const done: Promise<FollowResult | Error> = followSource(s.env, { slot: s.slot, signal: ac.signal, ...opts }).catch((e: Error) => e);
  return { stop: () => ac.abort(), done };
}

async function streaming(s: Setup): Promise<number> {
  for (let i = 0; i < 600; i++) {
    const r = await s.src(`SELECT active_pid AS p FROM pg_replication_slots WHERE slot_name = $1`, [s.slot]);
    if (r[0]?.p) return r[0].p as number;
    await sleep(50);
  }
  throw new Error('the follower did not start streaming');
}

/** Stops the writer, then follows to a marker written after it (everything committed is applied). */
async function drain(s: Setup, opts: FollowOptions = {}) {
  await s.writer?.stop();
  const id = `drain-${Math.random()}`;
  await s.src('SELECT pg_logical_emit_message(true, $1, $2)', [FENCE_MESSAGE_PREFIX, id]);
  const r = await followSource(s.env, { ...opts, slot: s.slot, stopAtMarker: id });
  expect(r.reason).toBe('fence');
  return r;
}

/** Ends with a cutover whose verify is equal (nothing lost, nothing applied twice). */
async function cutoverEqual(s: Setup, planFile?: PlanFile) {
  const r = await cutover(s.env, { slot: s.slot, writersTimeoutMs: 5_000, ...(planFile ? { planFile } : {}) });
  expect(r.verify?.ok).toBe(true);
}

async function serviceRoleCanWrite(s: Setup): Promise<boolean> {
  // Two statements: the simple protocol (no parameters).
  return s.src(`SET ROLE service_role; INSERT INTO public."AuditLog" (id, action, entity, "entityId") VALUES ('open-${Math.random().toString(36).slice(2)}', 'a', 'b', 'c')`)
    .then(() => true, () => false);
}

describe('follow through schema changes on the source', { timeout: 300_000 }, () => {
  it('ADD COLUMN: stops at the Relation message before applying anything of the new shape, names table, column and the fix; resumes from exactly there', async () => {
    const s = await setup('addcol');
    try {
      const m = (await s.src(`SELECT id FROM public."Machine" ORDER BY id DESC LIMIT 1`))[0]?.id as string;
      const f = background(s);
      await streaming(s);
      await s.src(`UPDATE public."Machine" SET name = 'before-deploy' WHERE id = $1`, [m]);
      await s.src(`ALTER TABLE public."Machine" ADD COLUMN firmware text`);
      await s.src(`UPDATE public."Machine" SET name = 'after-deploy', firmware = 'v2' WHERE id = $1`, [m]);
      const e = (await f.done) as Error & { code?: string; exitCode?: number; hint?: string };
      expect(e).toBeInstanceOf(Error);
      expect(e).toMatchObject({ code: 'SOURCE_SCHEMA_CHANGED', exitCode: EXIT.SCHEMA_CHANGED });
      expect(e.message).toContain('Machine');
      expect(e.message).toContain('firmware');
      expect(e.hint).toMatch(/migrat/);
      expect(e.hint).toContain('ignore');
      // Everything before the ALTER is in, nothing after it.
      expect(await s.machines(`SELECT name FROM machines_service.machines WHERE id = $1`, [m])).toEqual([{ name: 'before-deploy' }]);
      // A restart without the fix stops at the same place (the plan does not know the column).
      await expect(followSource(s.env, { slot: s.slot })).rejects.toMatchObject({ exitCode: expect.any(Number) });
      expect(await s.machines(`SELECT name FROM machines_service.machines WHERE id = $1`, [m])).toEqual([{ name: 'before-deploy' }]);
      const planFile: PlanFile = { ignore: { columns: { 'Machine.firmware': 'added by the deploy; machines does not need it yet' } } };
      await drain(s, { planFile });
      expect(await s.machines(`SELECT name FROM machines_service.machines WHERE id = $1`, [m])).toEqual([{ name: 'after-deploy' }]);
      await cutoverEqual(s, planFile);
    } finally {
      await s.done();
    }
  });

  it('RENAME COLUMN: stops naming the new and the vanished column; after the plan maps the new name, resumes and ends equal', async () => {
    const s = await setup('rencol');
    try {
      const m = (await s.src(`SELECT id FROM public."Machine" ORDER BY id DESC LIMIT 1`))[0]?.id as string;
      const f = background(s);
      await streaming(s);
      await s.src(`ALTER TABLE public."Machine" RENAME COLUMN "name" TO "title"`);
      await s.src(`UPDATE public."Machine" SET title = 'renamed-value' WHERE id = $1`, [m]);
      await s.src(`INSERT INTO public."Machine" (id, code, "serialNumber", type, title, "updatedAt") VALUES ('m-new', 'c-new', 's-new', 't', 'inserted-after-rename', now())`);
      const e = (await f.done) as Error & { code?: string; hint?: string };
      expect(e).toMatchObject({ code: 'SOURCE_SCHEMA_CHANGED' });
      expect(e.message).toContain('title');
      expect(e.message).toContain('name');
      expect(await s.machines(`SELECT 1 FROM machines_service.machines WHERE id = 'm-new'`)).toEqual([]);
      const planFile: PlanFile = { tables: { Machine: { columns: { name: { source: 'title' } } } } };
      await drain(s, { planFile });
      expect(await s.machines(`SELECT name FROM machines_service.machines WHERE id IN ($1, 'm-new') ORDER BY id = 'm-new'`, [m])).toEqual([{ name: 'renamed-value' }, { name: 'inserted-after-rename' }]);
      await cutoverEqual(s, planFile);
    } finally {
      await s.done();
    }
  });

  it('DROP COLUMN while following stops (exit 11); one dropped while no follower ran is passed over (older changes carry it); both end equal', async () => {
    const s = await setup('dropcol');
    try {
      const m = (await s.src(`SELECT id FROM public."Machine" ORDER BY id DESC LIMIT 1`))[0]?.id as string;
      const f = background(s);
      await streaming(s);
      await s.src(`ALTER TABLE public."Machine" DROP COLUMN "lastPing"`);
      await s.src(`UPDATE public."Machine" SET name = 'after-drop' WHERE id = $1`, [m]);
      const e = (await f.done) as Error & { code?: string };
      expect(e).toMatchObject({ code: 'SOURCE_SCHEMA_CHANGED', message: expect.stringContaining('"lastPing" is gone') });
      expect(await s.machines(`SELECT name FROM machines_service.machines WHERE id = $1`, [m])).not.toEqual([{ name: 'after-drop' }]);
      await s.writer?.stop();
      // While no follower runs: changes with "serialNumber", then the column goes (the plan made later does not know it).
      await s.src(`UPDATE public."Machine" SET "serialNumber" = "serialNumber" || '-x', name = 'before-second-drop' WHERE id = $1`, [m]);
      const planFile: PlanFile = { tables: { Machine: { columns: { lastPing: { default: true }, serialNumber: { default: true } } } } };
      await s.machines(`ALTER TABLE machines_service.machines ALTER COLUMN serial_number DROP NOT NULL`);
      await s.src(`ALTER TABLE public."Machine" DROP COLUMN "serialNumber"`);
      await s.src(`UPDATE public."Machine" SET name = 'after-second-drop' WHERE id = $1`, [m]);
      s.writer = undefined;
      await drain(s, { planFile });
      expect(await s.machines(`SELECT name FROM machines_service.machines WHERE id = $1`, [m])).toEqual([{ name: 'after-second-drop' }]);
    } finally {
      await s.done();
    }
  });

  it('RENAME TABLE: a published table under a new name stops the follower (its changes are not dropped)', async () => {
    const s = await setup('rentab');
    try {
      const f = background(s);
      await streaming(s);
      await s.src(`ALTER TABLE public."AuditLog" RENAME TO "AuditTrail"`);
      await s.src(`INSERT INTO public."AuditTrail" (id, action, entity, "entityId") VALUES ('after-rename', 'a', 'b', 'c')`);
      const e = (await f.done) as Error & { code?: string };
      expect(e).toMatchObject({ code: 'SOURCE_SCHEMA_CHANGED', message: expect.stringContaining('AuditTrail') });
    } finally {
      await s.src(`ALTER TABLE public."AuditTrail" RENAME TO "AuditLog"`).catch(() => {});
      await s.done();
    }
  });

  it('an enum label the target lacks stops with exit 9 and says what to do; after the migration it resumes and ends equal', async () => {
    const s = await setup('enum');
    try {
      const m = (await s.src(`SELECT id FROM public."Machine" ORDER BY id DESC LIMIT 1`))[0]?.id as string;
      await s.src(`ALTER TYPE "MachineStatus" ADD VALUE 'RETIRED'`);
      await s.src(`UPDATE public."Machine" SET status = 'RETIRED' WHERE id = $1`, [m]);
      const e = await drain(s).catch((x: Error & { code?: string; hint?: string }) => x) as Error & { code?: string; exitCode?: number; hint?: string };
      expect(e).toMatchObject({ code: 'COPY_FAILED', exitCode: EXIT.COPY });
      expect(e.message).toContain('machines');
      expect(e.message).toContain(m);
      expect(e.hint).toMatch(/migrat/);
      const typ = (await s.machines(`SELECT format_type(atttypid, NULL) AS t FROM pg_attribute WHERE attrelid = 'machines_service.machines'::regclass AND attname = 'status'`))[0]?.t as string;
      await s.machines(`ALTER TYPE ${typ} ADD VALUE 'RETIRED'`);
      await drain(s);
      await cutoverEqual(s);
    } finally {
      await s.done();
    }
  });
});

describe('follow through key changes', { timeout: 300_000 }, () => {
  it('a primary-key update is an UPDATE of the key: RESTRICT and CASCADE children stay, an unchanged TOASTed value stays', async () => {
    const s = await setup('pkupd');
    try {
      // A machine of its own: the writers (which read their machines when they start) never touch it.
      const m = 'pk-own-old';
      const big = JSON.stringify({ blob: Array.from({ length: 3000 }, (_, i) => `${i}-${Math.random().toString(36)}`) });
      await s.src(`INSERT INTO public."Machine" (id, code, "serialNumber", type, name, metadata, "updatedAt") VALUES ($1, 'pk-code', 'pk-serial', 't', 'n', $2::jsonb, now())`, [m, big]);
      // Children in the machines target: telemetry (ON DELETE CASCADE), service history (ON DELETE RESTRICT).
      await s.src(`INSERT INTO public."MachineTelemetry" (id, "machineId", errors, "rawData") VALUES ('pk-tel', $1, '{}', '{}')`, [m]);
      await s.src(`INSERT INTO public."ServiceHistory" (id, "machineId", "serviceType", description, "performedById", photos) VALUES ('pk-sh', $1, 'check', 'd', (SELECT min(id) FROM public."User"), '{}')`, [m]);
      await drain(s);
      const fks = await s.machines(`SELECT conrelid::regclass::text AS t, confdeltype AS d FROM pg_constraint WHERE contype = 'f' AND confrelid = 'machines_service.machines'::regclass ORDER BY 1`);
      expect(fks.map((r) => r.d)).toEqual(expect.arrayContaining(['c', 'r']));
      s.writer = await startSourceWriter(cluster.url(s.db), 100, 'pk2', { skipMachines: [m] });
      await s.src(`UPDATE public."Machine" SET id = 'pk-new-id' WHERE id = $1`, [m]);
      await drain(s);
      const row = (await s.machines(`SELECT length(metadata::text) AS len FROM machines_service.machines WHERE id = 'pk-new-id'`))[0];
      expect(Number(row?.len)).toBeGreaterThan(10_000);
      expect(await s.machines(`SELECT 1 FROM machines_service.machines WHERE id = $1`, [m])).toEqual([]);
      expect(await s.machines(`SELECT machine_id FROM machines_service.machine_telemetry WHERE id = 'pk-tel'`)).toEqual([{ machine_id: 'pk-new-id' }]);
      expect(await s.machines(`SELECT machine_id FROM machines_service.service_history WHERE id = 'pk-sh'`)).toEqual([{ machine_id: 'pk-new-id' }]);
      await cutoverEqual(s);
    } finally {
      await s.done();
    }
  });

  it('a key change that conflicts in the target is an apply conflict naming table and key; removing the stray row, a resume ends equal', async () => {
    const s = await setup('pkconf');
    try {
      const m = (await s.src(`SELECT id FROM public."Machine" ORDER BY id DESC LIMIT 1`))[0]?.id as string;
      await s.machines(`INSERT INTO machines_service.machines (id, code, serial_number, type, name, status, updated_at)
        SELECT 'pk-taken', 'stray-code', 'stray-serial', type, name, status, updated_at FROM machines_service.machines WHERE id = $1`, [m]);
      await s.src(`UPDATE public."Machine" SET id = 'pk-taken' WHERE id = $1`, [m]);
      const e = await drain(s).catch((x: Error) => x) as Error & { code?: string; exitCode?: number; details?: Record<string, unknown> };
      expect(e).toMatchObject({ code: 'APPLY_CONFLICT', exitCode: EXIT.APPLY_CONFLICT });
      expect(e.message).toContain('machines');
      expect(e.message).toContain('pk-taken');
      await s.machines(`DELETE FROM machines_service.machines WHERE id = 'pk-taken'`);
      s.writer = undefined;
      await drain(s);
      await cutoverEqual(s);
    } finally {
      await s.done();
    }
  });
});

describe('follow through lost connections', { timeout: 300_000 }, () => {
  it('a target connection terminated mid-apply: a clean stop with exit 4 (no unhandled error), resumable to equal', async () => {
    const s = await setup('tgtkill');
    try {
      await s.writer?.stop();
      s.writer = undefined;
      // A large transaction keeps a target transaction open while it arrives.
      await s.src(`UPDATE public."MachineTelemetry" SET temperature = coalesce(temperature, 0) + 1000`);
      const writer = await startSourceWriter(cluster.url(s.db), 100, 'tk');
      const f = background(s, { batchChanges: 50, maxQueuedChanges: 150 });
      let killed = 0;
      for (let i = 0; i < 400 && !killed; i++) {
        const r = await s.machines(`SELECT pg_terminate_backend(pid) AS k FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid() AND backend_xid IS NOT NULL`);
        killed = r.length;
        if (!killed) await sleep(10);
      }
      expect(killed).toBeGreaterThan(0);
      const e = (await f.done) as Error & { code?: string; exitCode?: number };
      expect(e).toBeInstanceOf(Error);
      expect(e).toMatchObject({ code: 'CONNECTION_FAILED', exitCode: EXIT.CONNECTION });
      s.writer = writer;
      await drain(s);
      await cutoverEqual(s);
    } finally {
      await s.done();
    }
  });

  it('a dropped replication connection is a failure (exit 4), not "slot released"; cutover taking the slot is', async () => {
    const s = await setup('walkill');
    try {
      const f = background(s);
      const pid = await streaming(s);
      await sleep(300);
      await s.src(`SELECT pg_terminate_backend($1)`, [pid]);
      const e = (await f.done) as Error & { code?: string; exitCode?: number };
      expect(e).toBeInstanceOf(Error);
      expect(e).toMatchObject({ code: 'CONNECTION_FAILED', exitCode: EXIT.CONNECTION });
      // Resumed, and this time cutover takes the slot: that stop is not a failure.
      const g = background(s);
      await streaming(s);
      await s.writer?.stop();
      await cutoverEqual(s);
      expect(await g.done).toMatchObject({ reason: 'slot-released' });
    } finally {
      await s.done();
    }
  });
});

describe('follow through lost slots', { timeout: 300_000 }, () => {
  it('a slot invalidated by max_slot_wal_keep_size: follow and cutover refuse with what happened and the way out; cutover fences nothing', async () => {
    const s = await setup('lost');
    try {
      await sleep(300);
      await s.writer?.stop();
      s.writer = undefined;
      await cluster.query(`ALTER SYSTEM SET max_slot_wal_keep_size = '1MB'`);
      await cluster.query(`SELECT pg_reload_conf()`);
      try {
        let status = '';
        for (let i = 0; i < 20 && status !== 'lost'; i++) {
          await s.src(`INSERT INTO public."AuditLog" (id, action, entity, "entityId") SELECT 'wal' || $1 || '-' || g, repeat('x', 200), 'b', 'c' FROM generate_series(1, 2000) g`, [i]);
          await s.src(`SELECT pg_switch_wal()`);
          await s.src(`CHECKPOINT`);
          status = (await s.src(`SELECT wal_status AS w FROM pg_replication_slots WHERE slot_name = $1`, [s.slot]))[0]?.w as string;
        }
        expect(status).toBe('lost');
      } finally {
        await cluster.query(`ALTER SYSTEM RESET max_slot_wal_keep_size`);
        await cluster.query(`SELECT pg_reload_conf()`);
      }
      const e = await followSource(s.env, { slot: s.slot }).catch((x: Error) => x) as Error & { code?: string; exitCode?: number; hint?: string };
      expect(e).toMatchObject({ code: 'SLOT_LOST', exitCode: EXIT.SLOT_LOST });
      expect(e.message).toMatch(/lost/);
      expect(e.hint).toContain('split abort');
      await expect(cutover(s.env, { slot: s.slot, writersTimeoutMs: 2_000 })).rejects.toMatchObject({ code: 'SLOT_LOST' });
      expect(await serviceRoleCanWrite(s)).toBe(true);
    } finally {
      await s.done();
    }
  });

  it('a slot dropped and recreated under the same name: follow and cutover refuse (the gap is not streamed); cutover fences nothing', async () => {
    const s = await setup('recreate');
    try {
      await sleep(500);
      await s.src(`SELECT pg_drop_replication_slot($1)`, [s.slot]);
      await sleep(300);
      await s.src(`SELECT pg_create_logical_replication_slot($1, 'pgoutput')`, [s.slot]);
      await sleep(200);
      const e = await followSource(s.env, { slot: s.slot }).catch((x: Error) => x) as Error & { code?: string; exitCode?: number; hint?: string };
      expect(e).toMatchObject({ code: 'SLOT_LOST', exitCode: EXIT.SLOT_LOST });
      expect(e.message).toMatch(/recreated|replaced/);
      expect(e.hint).toContain('split abort');
      await s.writer?.stop();
      await expect(cutover(s.env, { slot: s.slot, writersTimeoutMs: 2_000 })).rejects.toMatchObject({ code: 'SLOT_LOST' });
      expect(await serviceRoleCanWrite(s)).toBe(true);
    } finally {
      await s.done();
    }
  });

  it('a writer that does not finish in time is its own error (exit 12), the fence stays for abort', async () => {
    const s = await setup('wtime', false);
    const hold = new pg.Client({ connectionString: cluster.url(s.db) });
    await hold.connect();
    try {
      await hold.query(`BEGIN; INSERT INTO public."AuditLog" (id, action, entity, "entityId") VALUES ('held', 'a', 'b', 'c')`);
      await expect(cutover(s.env, { slot: s.slot, writersTimeoutMs: 500 })).rejects.toMatchObject({ code: 'WRITERS_TIMEOUT', exitCode: EXIT.WRITERS_TIMEOUT });
    } finally {
      await hold.query('ROLLBACK').catch(() => {});
      await hold.end();
      await s.done();
    }
  });
});
