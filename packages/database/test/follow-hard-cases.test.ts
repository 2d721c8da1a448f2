import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FENCE_MESSAGE_PREFIX } from '../src/follow/follow-names.ts';
import { type FollowOptions } from '../src/follow/follower.ts';
import { applyBatch, type SourceTransaction } from '../src/follow/change-applier.ts';
import { TableApplier } from '../src/follow/table-applier.ts';
import { loadPlan } from '../src/split/load-plan.ts';
import { withSplitContext } from '../src/split/split-context.ts';
import { type LogicalCluster, startGoldenCluster } from './helpers/logical-cluster.ts';
import { migratedTargets, sql } from './helpers/split-fixture.ts';
import { startSourceWriter } from './helpers/source-writer.ts';
import type { Topology } from './helpers/topology.ts';
import { abortFollow, cutover, followSource, startFollowSplit, verifySplit } from './helpers/split-ops.ts';

let cluster: LogicalCluster;
let golden: string;

beforeAll(async () => {
  ({ cluster, golden } = await startGoldenCluster(5));
});
afterAll(async () => {
  await cluster?.stop();
});

interface Setup {
  db: string;
  topo: Topology;
  env: Record<string, string>;
  /** Slots are per cluster: each test its own. */
  slot: string;
  src: (text: string, params?: unknown[]) => Promise<Record<string, unknown>[]>;
  machines: (text: string, params?: unknown[]) => Promise<Record<string, unknown>[]>;
  main: (text: string, params?: unknown[]) => Promise<Record<string, unknown>[]>;
  done(): Promise<void>;
}

/** A clone of the monolith, mixed targets (machines and inventory in databases of their own), copied with --follow. */
async function setup(prefix: string, prepare?: (q: Setup['src']) => Promise<void>, follow = true): Promise<Setup> {
  const db = await cluster.createDatabase(prefix, golden);
  const topo = await migratedTargets('mixed', `fh_${prefix}`);
  const env = { ...(topo.env as Record<string, string>), SOURCE_DATABASE_URL: cluster.url(db) };
  const src = (text: string, params: unknown[] = []) => cluster.query(text, params, db);
  if (prepare) await prepare(src);
  const slot = `t_${prefix}`;
  if (follow) await startFollowSplit(env, { chunkRows: 5_000, slot });
  return {
    db, topo, env, src, slot,
    machines: (t, p = []) => sql(topo.env.MACHINES_DATABASE_URL as string, t, p),
    main: (t, p = []) => sql(topo.env.DATABASE_URL as string, t, p),
    async done() {
      await abortFollow(env, { slot }).catch(() => {});
      await topo.drop();
    },
  };
}

/** Applies everything committed so far: a marker in the WAL, then follow until it is applied. */
async function catchUp(s: Setup, opts: FollowOptions = {}) {
  const id = `test-${Math.random()}`;
  await s.src('SELECT pg_logical_emit_message(true, $1, $2)', [FENCE_MESSAGE_PREFIX, id]);
  const r = await followSource(s.env, { ...opts, slot: s.slot, stopAtMarker: id });
  expect(r.reason).toBe('fence');
  return r;
}

describe('--follow hard cases', () => {
  it('refuses a table without primary key or replica identity, naming the fix; REPLICA IDENTITY FULL is accepted', async () => {
    const s = await setup('nopk', (q) => q(`ALTER TABLE public."AuditLog" DROP CONSTRAINT "AuditLog_pkey"`).then(() => undefined), false);
    try {
      await expect(startFollowSplit(s.env, { slot: s.slot })).rejects.toMatchObject({ code: 'PREFLIGHT_FAILED', message: expect.stringContaining('ALTER TABLE "public"."AuditLog" REPLICA IDENTITY FULL') });
      expect((await s.src(`SELECT count(*)::int AS n FROM pg_replication_slots`))[0]?.n).toBe(0);
      await s.src(`ALTER TABLE public."AuditLog" REPLICA IDENTITY FULL`);
      await startFollowSplit(s.env, { slot: s.slot });
      const id = (await s.src(`SELECT id FROM public."AuditLog" ORDER BY id LIMIT 1`))[0]?.id;
      await s.src(`DELETE FROM public."AuditLog" WHERE id = $1`, [id]);
      await s.src(`UPDATE public."AuditLog" SET action = 'changed' WHERE id = (SELECT min(id) FROM public."AuditLog")`);
      await catchUp(s);
      expect(await s.main(`SELECT 1 FROM auth_service.audit_logs WHERE id = $1`, [id]).catch(async () => s.main(`SELECT 1 FROM auth_service."AuditLog" WHERE id = $1`, [id]))).toEqual([]);
      expect((await verifySplit(s.env, {})).ok).toBe(true);
    } finally {
      await s.done();
    }
  });

  it('refuses plan-file expressions with a clear message', async () => {
    const s = await setup('expr', undefined, false);
    try {
      const planFile = { tables: { Machine: { columns: { metadata: { expression: `coalesce("metadata", '{}'::jsonb)` } } } } };
      await expect(startFollowSplit(s.env, { planFile, slot: s.slot })).rejects.toMatchObject({ code: 'PREFLIGHT_FAILED', message: expect.stringContaining('plan-file expression') });
    } finally {
      await s.done();
    }
  });

  it('keeps an unchanged TOASTed jsonb on update (not NULL), and carries enums, arrays, jsonb, timestamps exactly (values travel as source text)', async () => {
    const big = JSON.stringify({ blob: Array.from({ length: 4000 }, (_, i) => `${i}-${Math.random().toString(36)}`) });
    const s = await setup('toast');
    try {
      const m = (await s.src(`SELECT id FROM public."Machine" ORDER BY id LIMIT 1`))[0]?.id;
      await s.src(`INSERT INTO public."MachineTelemetry" (id, "machineId", temperature, errors, "rawData", "createdAt") VALUES ('toast1', $1, 1, ARRAY['a,b','q"uote', NULL], $2::jsonb, '2024-02-29 23:59:59.123456+05:30')`, [m, big]);
      await s.src(`UPDATE public."MachineTelemetry" SET temperature = 2 WHERE id = 'toast1'`);
      await s.src(`UPDATE public."Machine" SET status = 'ERROR', metadata = '{"k": [1, "x", null, {"d": 1.50}]}' WHERE id = $1`, [m]);
      await s.src(`UPDATE public."User" SET roles = ARRAY['DRIVER','TECHNICIAN']::"UserRole"[] WHERE id = (SELECT min(id) FROM public."User")`);
      await catchUp(s);
      const t = (await s.machines(`SELECT temperature, length(raw_data::text) AS len, errors, extract(epoch FROM created_at)::text AS ts FROM machines_service.machine_telemetry WHERE id = 'toast1'`))[0];
      const srcTs = (await s.src(`SELECT extract(epoch FROM "createdAt")::text AS ts FROM public."MachineTelemetry" WHERE id = 'toast1'`))[0]?.ts;
      expect(t).toMatchObject({ temperature: 2, errors: ['a,b', 'q"uote', null], ts: srcTs });
      expect(String(srcTs)).toMatch(/\.123(000)?$/); // milliseconds survive (Prisma DateTime is timestamp(3))
      expect(Number(t?.len)).toBeGreaterThan(10_000);
      expect((await verifySplit(s.env, {})).ok).toBe(true);
    } finally {
      await s.done();
    }
  });

  it('applies a transaction across services (two target databases), delete + re-insert, truncate, with tiny batches (backpressure)', async () => {
    const s = await setup('multi');
    try {
      const m = (await s.src(`SELECT id FROM public."Machine" ORDER BY id LIMIT 1`))[0]?.id;
      const old = (await s.src(`SELECT id FROM public."MachineTelemetry" ORDER BY id LIMIT 1`))[0]?.id;
      await s.src(`BEGIN;
        INSERT INTO public."Transaction" (id, "machineId", amount, "paymentType", status) VALUES ('x1', '${m}', 9.99, 'cash', 'ok');
        INSERT INTO public."MachineTelemetry" (id, "machineId", errors, "rawData") VALUES ('x1', '${m}', '{}', '{"from": "multi"}');
        UPDATE public."Task" SET status = 'CANCELLED' WHERE id = (SELECT min(id) FROM public."Task");
        DELETE FROM public."MachineTelemetry" WHERE id = '${old}';
        INSERT INTO public."MachineTelemetry" (id, "machineId", errors, "rawData") VALUES ('${old}', '${m}', '{re}', '{"again": 1}');
        COMMIT`);
      for (let i = 0; i < 300; i++) await s.src(`INSERT INTO public."AuditLog" (id, action, entity, "entityId") VALUES ($1, 'a', 'b', 'c')`, [`bp${i}`]);
      await s.src(`DELETE FROM public."MachineTelemetry" WHERE id = 'x1'`);
      await s.src(`INSERT INTO public."MachineTelemetry" (id, "machineId", errors, "rawData") VALUES ('x1', '${m}', '{}', '{"second": true}')`);
      await s.src(`TRUNCATE public."ServiceHistory"`);
      await catchUp(s, { batchChanges: 7, maxQueuedChanges: 20 });
      expect(await s.main(`SELECT amount FROM shared.transactions WHERE id = 'x1'`).catch(() => s.main(`SELECT amount FROM shared."Transaction" WHERE id = 'x1'`))).toEqual([{ amount: 9.99 }]);
      expect((await s.machines(`SELECT raw_data FROM machines_service.machine_telemetry WHERE id IN ('x1', $1) ORDER BY id = 'x1'`, [old])).map((r) => r.raw_data)).toEqual([{ again: 1 }, { second: true }]);
      expect((await verifySplit(s.env, {})).ok).toBe(true);
    } finally {
      await s.done();
    }
  });

  it('a source transaction far larger than the queue is applied in pieces while it arrives (memory bounded); stopped mid-way the targets hold none of it; resumed, equal', async () => {
    const s = await setup('bigtx');
    try {
      const [{ n }] = (await s.src(`SELECT count(*)::int AS n FROM public."MachineTelemetry"`)) as [{ n: number }];
      // One transaction across two target databases (machines has its own; auth is in the shared one).
      await s.src(`BEGIN;
        UPDATE public."MachineTelemetry" SET temperature = coalesce(temperature, 0) + 1000;
        UPDATE public."AuditLog" SET action = action || '!';
        COMMIT`);
      const total = n + ((await s.src(`SELECT count(*)::int AS n FROM public."AuditLog"`))[0]?.n as number);
      expect(total).toBeGreaterThan(5_000);
      const hot = () => s.machines(`SELECT count(*)::int AS n FROM machines_service.machine_telemetry WHERE temperature >= 1000`).then((r) => r[0]?.n);

      // Stopped while the transaction is half applied: a target transaction is open, nothing is visible.
      const stop = new AbortController();
      // One connection polling in turn (not a connection per poll: that would flood a loaded server).
      const watch = new pg.Client({ connectionString: s.topo.env.MACHINES_DATABASE_URL as string });
      await watch.connect();
      const watching = (async () => {
        while (!stop.signal.aborted) {
          const r = await watch.query<{ n: number }>(`SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid() AND backend_xid IS NOT NULL`);
          if ((r.rows[0]?.n ?? 0) > 0) stop.abort();
          else await new Promise((res) => setTimeout(res, 5));
        }
      })();
      const giveUp = setTimeout(() => stop.abort(), 30_000); // never hang: the assertions below then say what happened
      const first = await followSource(s.env, { slot: s.slot, batchChanges: 100, maxQueuedChanges: 300, signal: stop.signal });
      clearTimeout(giveUp);
      stop.abort();
      await watching;
      await watch.end();
      expect(first.reason).toBe('interrupted');
      expect(first.transactions).toBe(0);
      expect(await hot()).toBe(0);

      const r = await catchUp(s, { batchChanges: 100, maxQueuedChanges: 300 });
      // Never more than a small multiple of the queue limit in memory, against the whole transaction.
      expect(r.peakQueuedChanges).toBeLessThan(total / 5);
      expect({ changes: r.changes, skipped: r.skipped }).toEqual({ changes: total, skipped: 0 });
      expect(await hot()).toBe((await s.src(`SELECT count(*)::int AS n FROM public."MachineTelemetry" WHERE temperature >= 1000`))[0]?.n);
      expect(await hot()).toBeGreaterThan(n / 2);
      expect((await verifySplit(s.env, {})).ok).toBe(true);
      console.info(`large transaction: ${total} changes, peak held ${r.peakQueuedChanges}`);
    } finally {
      await s.done();
    }
  });

  it('a failed cutover keeps the fence; abort restores the grants and removes slot and publication', async () => {
    const s = await setup('abort');
    try {
      // A target row changed behind the split's back: verify inside cutover must fail.
      await s.machines(`UPDATE machines_service.machine_telemetry SET temperature = -999 WHERE id = (SELECT min(id) FROM machines_service.machine_telemetry)`);
      await expect(cutover(s.env, { writersTimeoutMs: 5_000, slot: s.slot })).rejects.toMatchObject({ code: 'VERIFY_MISMATCH' });
      const denied = await s.src(`SET ROLE service_role; INSERT INTO public."AuditLog" (id, action, entity, "entityId") VALUES ('fenced', 'a', 'b', 'c')`).then(() => 'written', (e: { code?: string }) => e.code);
      expect(denied).toBe('42501');
      const r = await abortFollow(s.env, { slot: s.slot });
      expect(r).toMatchObject({ slotDropped: true, publicationDropped: true });
      expect(r.restored.length).toBeGreaterThan(0);
      expect((await s.src(`SELECT (SELECT count(*)::int FROM pg_replication_slots) AS s, (SELECT count(*)::int FROM pg_publication) AS p`))[0]).toEqual({ s: 0, p: 0 });
      await s.src(`SET ROLE service_role; INSERT INTO public."AuditLog" (id, action, entity, "entityId") VALUES ('open-again', 'a', 'b', 'c')`);
      const acl = await s.src(`SELECT relname, relacl::text FROM pg_class WHERE relname = 'AuditLog'`);
      const goldAcl = await cluster.query(`SELECT relname, relacl::text FROM pg_class WHERE relname = 'AuditLog'`, [], golden);
      expect(acl).toEqual(goldAcl);
    } finally {
      await s.done();
    }
  });

  it('replaying a batch is exact: a target already past a transaction skips it, the one behind applies it', async () => {
    const s = await setup('replay');
    try {
      await withSplitContext(s.env, { parallel: 1 }, async (ctx) => {
        const loaded = await loadPlan(ctx, {});
        const applier = (model: string) => {
          const m = loaded.plan.tables.find((t) => t.model === model);
          if (!m) throw new Error(model);
          return new TableApplier(m, loaded.targetTables.get(m.service)?.get(m.targetTable)?.primaryKey ?? []);
        };
        const tel = applier('MachineTelemetry');
        const txn = applier('Transaction');
        const targetOf = (a: TableApplier) => ctx.targetFor(a.mapping.service);
        const m = (await s.src(`SELECT id FROM public."Machine" ORDER BY id LIMIT 1`))[0]?.id as string;
        const state = async (q: Setup['main']) => (await q(`SELECT applied_lsn::text AS l FROM _vendhub_split.follow_state WHERE slot = $1`, [s.slot]))[0]?.l as string;
        const base = await state(s.main);
        const [hi, lo] = base.split('/') as [string, string];
        const lsn = (d: number) => `${hi}/${(parseInt(lo, 16) + d).toString(16).toUpperCase()}`;
        const tx = (d: number, n: number): SourceTransaction => ({
          commitEndLsn: lsn(d), commitTime: new Date(), barrier: false,
          changes: [
            { op: 'upsert', table: tel, old: null, row: { id: 'rp1', machineId: m, temperature: String(n), humidity: null, sales: null, errors: '{}', rawData: '{}', createdAt: '2024-01-01 00:00:00' } },
            { op: 'upsert', table: txn, old: null, row: { id: 'rp1', machineId: m, amount: String(n), currency: 'RUB', paymentType: 'x', status: 'ok', reference: null, metadata: null, createdAt: '2024-01-01 00:00:00' } },
          ],
        });
        // Crash simulation: the machines database committed tx 1 and tx 2, the shared one nothing.
        await applyBatch(ctx, s.slot, [tx(100, 1), tx(200, 2)], (a) => (a === tel ? targetOf(a) : (undefined as never))).catch(() => {});
        const telRows = async () => s.machines(`SELECT temperature FROM machines_service.machine_telemetry WHERE id = 'rp1'`);
        const txnRows = async () => s.main(`SELECT amount FROM shared.transactions WHERE id = 'rp1'`);
        expect(await telRows()).toEqual([{ temperature: 2 }]);
        expect(await txnRows()).toEqual([]);
        // Someone changed the row in the machines target after tx 2: a replay must not touch it.
        await s.machines(`UPDATE machines_service.machine_telemetry SET temperature = 42 WHERE id = 'rp1'`);
        const r = await applyBatch(ctx, s.slot, [tx(100, 1), tx(200, 2)], targetOf);
        expect(r).toEqual({ changes: 2, skipped: 2 });
        expect(await telRows()).toEqual([{ temperature: 42 }]);
        expect(await txnRows()).toEqual([{ amount: 2 }]);
        expect(await state(s.machines)).toBe(lsn(200));
        expect(await state(s.main)).toBe(lsn(200));
        expect(await applyBatch(ctx, s.slot, [tx(200, 2)], targetOf)).toEqual({ changes: 0, skipped: 2 });
      });
    } finally {
      await s.done();
    }
  });

  it('--verify after-switch: the freeze ends before verify; verify compares the fence snapshots while the services write to the targets, and still catches a bad target', async () => {
    const s = await setup('after');
    const writer = await startSourceWriter(cluster.url(s.db), 150, 'as');
    try {
      await new Promise((r) => setTimeout(r, 500));
      let switchedAt: number | undefined;
      const r = await cutover(s.env, {
        slot: s.slot, writersTimeoutMs: 5_000, verify: 'after-switch',
        onSwitch: async (sw) => {
          switchedAt = Date.now();
          expect(sw.verified).toBe('no');
          expect(sw.phases).toHaveProperty('sequences');
          expect(sw.phases).toHaveProperty('snapshots');
          expect(sw.phases).not.toHaveProperty('verify');
          // A service writes to its new database right after the switch: a plain verify now differs.
          // (A value no writer produces: the writer's own rows sort first and may already hold -1 or -3.)
          await s.machines(`UPDATE machines_service.machine_telemetry SET temperature = -4242 WHERE id = (SELECT min(id) FROM machines_service.machine_telemetry)`);
          expect((await verifySplit(s.env, {})).ok).toBe(false);
        },
      });
      expect(switchedAt).toBeDefined();
      expect(r.verified).toBe('after-switch');
      expect(r.verify?.ok).toBe(true);
      expect(r.verifyAfterSwitchMs).toBeGreaterThan(0);
      await writer.stop();
      expect((await s.src(`SELECT count(*)::int AS n FROM pg_replication_slots`))[0]?.n).toBe(0);
    } finally {
      await writer.stop();
      await s.done();
    }

    // A target that was wrong before the fence: reported after the switch, with the way back.
    const b = await setup('afterbad');
    try {
      await b.machines(`UPDATE machines_service.machine_telemetry SET temperature = -999 WHERE id = (SELECT min(id) FROM machines_service.machine_telemetry)`);
      let switched = false;
      await expect(cutover(b.env, { slot: b.slot, writersTimeoutMs: 5_000, verify: 'after-switch', onSwitch: () => void (switched = true) })).rejects.toMatchObject({
        code: 'VERIFY_MISMATCH', message: expect.stringContaining('after the switch'), hint: expect.stringContaining('split abort'),
      });
      expect(switched).toBe(true);
    } finally {
      await b.done();
    }
  });

  it('--wait-for-writers-stopped: refuses while a writer still writes (nothing lost), succeeds once it stopped', async () => {
    const s = await setup('waitw');
    const writer = await startSourceWriter(cluster.url(s.db), 150, 'ww');
    try {
      await new Promise((r) => setTimeout(r, 500));
      await expect(cutover(s.env, { slot: s.slot, fence: 'wait', writersTimeoutMs: 5_000 })).rejects.toMatchObject({
        code: 'VERIFY_MISMATCH',
        // Caught by the check for changes after the fence marker, or (writes after that check) by verify.
        message: expect.stringMatching(/changes reached the mapped tables after the fence|verify found differences/),
      });
      const stats = await writer.stop();
      expect(stats.refused).toBe(0); // option B revokes nothing
      const r = await cutover(s.env, { slot: s.slot, fence: 'wait', writersTimeoutMs: 5_000 });
      expect(r.revoked).toEqual([]);
      expect(r.verify?.ok).toBe(true);
      expect((await s.src(`SELECT count(*)::int AS n FROM pg_replication_slots`))[0]?.n).toBe(0);
    } finally {
      await writer.stop();
      await s.done();
    }
  });

  it('a follower started while another streams and acknowledges is refused as "in use", never as a recreated slot (the slot is read before the positions)', async () => {
    const s = await setup('race');
    const writer = await startSourceWriter(cluster.url(s.db), 400, 'rc');
    const ac = new AbortController();
    const first = followSource(s.env, { slot: s.slot, signal: ac.signal, batchChanges: 1 }); // records and acknowledges every transaction
    try {
      const deadline = Date.now() + 30_000;
      while ((await s.src(`SELECT 1 FROM pg_replication_slots WHERE slot_name = $1 AND active`, [s.slot])).length === 0) {
        if (Date.now() > deadline) throw new Error('the first follower never streamed');
        await new Promise((r) => setTimeout(r, 50));
      }
      // The first one records positions and acknowledges them all the time: a start that read the
      // positions before the slot would see the slot ahead of them ("recreated", SLOT_LOST).
      for (let i = 0; i < 12; i++) {
        const err = await followSource(s.env, { slot: s.slot }).then(() => undefined, (e: unknown) => e);
        expect(err).toMatchObject({ code: 'PREFLIGHT_FAILED', message: expect.stringMatching(/slot t_race is in use by another process/) });
      }
    } finally {
      ac.abort();
      await first.catch(() => {});
      await writer.stop();
      await s.done();
    }
  });

  it('split run --follow refuses a slot name already taken on the source and leaves that slot and publication alone', async () => {
    const s = await setup('taken', undefined, false);
    try {
      await s.src(`CREATE PUBLICATION t_taken_pub FOR TABLE public."User"`);
      await s.src(`SELECT pg_create_logical_replication_slot('t_taken', 'pgoutput')`);
      await expect(startFollowSplit(s.env, { slot: s.slot, chunkRows: 5_000 })).rejects.toMatchObject({ code: 'PREFLIGHT_FAILED', message: expect.stringContaining('slot t_taken or publication t_taken_pub already exists') });
      // Someone else's follow (its hint says: continue it with `split follow`): still there.
      expect(await s.src(`SELECT slot_name FROM pg_replication_slots WHERE slot_name = 't_taken'`)).toHaveLength(1);
      expect(await s.src(`SELECT pubname FROM pg_publication WHERE pubname = 't_taken_pub'`)).toHaveLength(1);
    } finally {
      await s.done();
    }
  });
});

