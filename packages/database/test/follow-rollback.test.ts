import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { reverseNames } from '../src/follow/follow-names.ts';
import { runCli, type SpawnedCli } from './helpers/cli.ts';
import { CLUSTER_PASSWORD, type LogicalCluster, startGoldenCluster } from './helpers/logical-cluster.ts';
import { migratedTargets } from './helpers/split-fixture.ts';
import { asServiceRole, grantServiceRole, logicalTargets, publications, sleep, slotNames, spawnFollowBack, startTargetWriter, waitFor, type TargetWriter } from './helpers/rollback-window.ts';
import { abortFollow, cutover, endRollbackWindow, startFollowSplit, verifySplit } from './helpers/split-ops.ts';

const PASSWORD = CLUSTER_PASSWORD;

let cluster: LogicalCluster;
let golden: string;

beforeAll(async () => {
  ({ cluster, golden } = await startGoldenCluster(13));
});
afterAll(async () => {
  await cluster?.stop();
});

/** The cluster's URLs carry its scram password (URL-special characters): it must never be printed. */
const withPassword = (url: string) => url;

const q = (db: string, text: string, params: unknown[] = []) => cluster.query<Record<string, unknown>>(text, params, db);

describe('the rollback window: cutover --rollback-window, follow-back, rollback', () => {
  it('reverse names fit PostgreSQL identifiers and differ per target database', () => {
    const long = reverseNames('a'.repeat(60), ['inventory']);
    expect(long.slot).toMatch(/^[a-z0-9_]{1,59}$/);
    expect(long.publication.length).toBeLessThanOrEqual(63);
    expect(reverseNames('vendhub_split', ['auth', 'tasks', 'shared']).slot).toBe('vendhub_split_back_auth');
    expect(reverseNames('vendhub_split', ['machines']).slot).not.toBe(reverseNames('vendhub_split', ['inventory']).slot);
  });

  it('mixed targets (a shared database and two of their own): writes in the targets come back to the monolith across a kill -9 of follow-back; rollback loses nothing and reopens the monolith', async () => {
    const db = await cluster.createDatabase('rb', golden);
    const t = await logicalTargets(cluster, 'mixed', 'rb');
    const machinesDb = t.db.machines as string;
    const inventoryDb = t.db.inventory as string;
    const slot = 'rb_slot';
    const env = { ...t.env, SOURCE_DATABASE_URL: withPassword(cluster.url(db)) };
    // The plan renames a column, ignores a monolith column (NOT NULL with a default) and defaults a target column.
    await q(db, `ALTER TABLE public."Machine" ADD COLUMN legacy text NOT NULL DEFAULT 'L'`);
    await q(db, `ALTER TABLE public."AuditLog" RENAME COLUMN "userAgent" TO ua`);
    await q(db, `CREATE SEQUENCE public.tel_sales_seq OWNED BY public."MachineTelemetry".sales; ALTER TABLE public."MachineTelemetry" ALTER COLUMN sales SET DEFAULT nextval('public.tel_sales_seq')`);
    const m0 = (await q(db, `SELECT id FROM public."Machine" ORDER BY id LIMIT 1`))[0]?.id as string;
    await q(db, `UPDATE public."Machine" SET legacy = 'custom', "lastPing" = '2024-05-01 10:00:00' WHERE id = $1`, [m0]);
    const planFile = {
      tables: { AuditLog: { columns: { userAgent: { source: 'ua' } } }, Machine: { columns: { lastPing: { default: true as const } } } },
      ignore: { columns: { 'Machine.legacy': 'not used by the machines service', 'Machine.lastPing': 'pings are re-sent' } },
    };
    const plan = join(mkdtempSync(join(tmpdir(), 'vh-rb-')), 'plan.json');
    writeFileSync(plan, JSON.stringify(planFile));
    const planArgs = ['--plan', plan];
    await grantServiceRole(cluster, machinesDb, 'machines_service');
    await grantServiceRole(cluster, t.db.main, 'tasks_service');
    const goldAcl = await q(golden, `SELECT relname, relacl::text FROM pg_class WHERE relnamespace = 'public'::regnamespace AND relkind = 'r' ORDER BY 1`);
    let back: SpawnedCli | undefined;
    let writer: TargetWriter | undefined;
    try {
      await startFollowSplit(env, { planFile, slot, chunkRows: 5_000 });
      const cut = await runCli(['split', 'cutover', '--slot', slot, '--rollback-window', '--verify', 'after-switch', ...planArgs], env);
      expect(cut.code, cut.stderr + cut.stdout).toBe(0);
      // The freeze ends (URLs printed, "switch now") before verify of the fence snapshots reports.
      expect(cut.stdout).toMatch(/write freeze: [\d.]+ s \(fence \d+ ms, catch-up \d+ ms, sequences \d+ ms, rollback-window \d+ ms, snapshots \d+ ms, drop-slot \d+ ms\)[\s\S]*MACHINES_DATABASE_URL=[\s\S]*switch the services now[\s\S]*verify after the switch: \d+ tables equal at the fence/);
      expect(cut.stdout).toMatch(/rollback window open: slot rb_slot_back_auth on target database .*; slot rb_slot_back_machines .*; slot rb_slot_back_inventory/);
      expect(cut.stdout + cut.stderr).not.toContain(PASSWORD);
      expect(await slotNames(cluster, 'rb_slot')).toEqual(['rb_slot_back_auth', 'rb_slot_back_inventory', 'rb_slot_back_machines']);
      for (const d of [t.db.main, machinesDb, inventoryDb]) expect(await publications(cluster, d)).toBe(1);
      expect(await asServiceRole(cluster, db, `INSERT INTO public."AuditLog" (id, action, entity, "entityId") VALUES ('x', 'a', 'b', 'c')`)).toBe('42501');
      expect((await q(db, `SELECT count(*)::int AS n FROM _vendhub_split.follow_fence WHERE slot = $1`, [slot]))[0]?.n).toBeGreaterThan(0);

      back = await spawnFollowBack(cluster, env, slot, planArgs, 3);
      const user = (await q(t.db.main, `SELECT id FROM auth_service.users ORDER BY id LIMIT 1`))[0]?.id as string;
      const item = (await q(inventoryDb, `SELECT id FROM inventory_service.inventory_items ORDER BY id LIMIT 1`))[0]?.id as string;
      const oldTel = (await q(machinesDb, `SELECT id FROM machines_service.machine_telemetry ORDER BY id LIMIT 1`))[0]?.id as string;
      const oldAudit = (await q(t.db.main, `SELECT id FROM auth_service.audit_logs ORDER BY id LIMIT 1`))[0]?.id as string;
      // A task referencing a machine the machines service creates only later: the monolith takes it first.
      await q(t.db.main, `INSERT INTO tasks_service.tasks (id, title, machine_id, created_by_id, updated_at) VALUES ('rb-task', 'refill', 'rb-m', $1, now())`, [user]);
      await waitFor('the task in the monolith', async () => (await q(db, `SELECT 1 FROM public."Task" WHERE id = 'rb-task'`)).length === 1);
      expect((await q(db, `SELECT 1 FROM public."Machine" WHERE id = 'rb-m'`)).length).toBe(0);
      await q(machinesDb, `INSERT INTO machines_service.machines (id, code, serial_number, type, name, updated_at, last_ping) VALUES ('rb-m', 'RB-1', 'SRB-1', 'snack', 'new', now(), now())`);
      await q(machinesDb, `UPDATE machines_service.machines SET name = 'renamed', last_ping = now() WHERE id = $1`, [m0]);
      const big = JSON.stringify({ blob: Array.from({ length: 4000 }, (_, i) => `${i}-${Math.random().toString(36)}`) });
      await q(machinesDb, `INSERT INTO machines_service.machine_telemetry (id, machine_id, sales, errors, raw_data) VALUES ('rb-toast', 'rb-m', 1000000, '{}', $1::jsonb)`, [big]);
      await q(machinesDb, `UPDATE machines_service.machine_telemetry SET temperature = 7 WHERE id = 'rb-toast'`);
      await q(machinesDb, `DELETE FROM machines_service.machine_telemetry WHERE id = $1`, [oldTel]);
      await q(t.db.main, `BEGIN; INSERT INTO auth_service.audit_logs (id, action, entity, entity_id, user_agent) VALUES ('rb-audit', 'update', 'Task', 'rb-task', 'ua-x');
        UPDATE tasks_service.tasks SET status = 'IN_PROGRESS', updated_at = now() WHERE id = 'rb-task'; DELETE FROM auth_service.audit_logs WHERE id = '${oldAudit}'; COMMIT`);
      await q(inventoryDb, `UPDATE inventory_service.inventory_items SET quantity = quantity + 5, updated_at = now() WHERE id = $1`, [item]);
      await q(inventoryDb, `INSERT INTO inventory_service.stock_movements (id, item_id, user_id, type, quantity, quantity_before, quantity_after, reason, machine_id) VALUES ('rb-sm', $1, $2, 'OUT', 1, 6, 5, 'refill', 'rb-m')`, [item, user]);
      writer = startTargetWriter(cluster, machinesDb, 'rb-m');
      await waitFor('the telemetry in the monolith', async () => (await q(db, `SELECT 1 FROM public."MachineTelemetry" WHERE id = 'rb-toast' AND temperature = 7`)).length === 1);

      back.child.kill('SIGKILL');
      expect(await back.exited).toBeNull();
      await waitFor('the reverse slots released', async () => (await cluster.query(`SELECT 1 FROM pg_replication_slots WHERE slot_name LIKE 'rb_slot_back_%' AND active`)).length === 0);
      // While no follow-back runs: a machine and a task referencing it, then the machine deleted (the tasks service keeps its task).
      await q(machinesDb, `INSERT INTO machines_service.machines (id, code, serial_number, type, name, updated_at) VALUES ('rb-m2', 'RB-2', 'SRB-2', 'coffee', 'gone soon', now())`);
      await q(t.db.main, `INSERT INTO tasks_service.tasks (id, title, machine_id, created_by_id, updated_at) VALUES ('rb-task2', 'inspect', 'rb-m2', $1, now())`, [user]);
      await q(machinesDb, `DELETE FROM machines_service.machines WHERE id = 'rb-m2'`);
      await q(t.db.main, `INSERT INTO shared.transactions (id, machine_id, amount, payment_type, status) VALUES ('rb-tx', 'rb-m', 4.5, 'card', 'ok')`);
      back = await spawnFollowBack(cluster, env, slot, planArgs, 3);
      await sleep(800);

      const rb = await runCli(['split', 'rollback', '--slot', slot, ...planArgs], env);
      expect(rb.code, rb.stderr + rb.stdout).toBe(0);
      expect(await back.exited, back.output()).toBe(0);
      expect(back.output()).toMatch(/follow-back stopped \(slot-released\)/);
      const stats = await writer.stop();
      expect(stats.errors).toEqual([]);
      expect(stats.ops).toBeGreaterThan(20);
      expect(stats.refused).toBeGreaterThan(0); // the targets are fenced
      expect(rb.stdout).toMatch(/write freeze: \d+\.\d\d s \(fence \d+ ms, catch-up \d+ ms, verify \d+ ms, sequences \d+ ms, restore-grants \d+ ms\)/);
      expect(rb.stdout).toMatch(/targets fenced \([1-9]\d* write grants revoked\)/);
      expect(rb.stdout).toMatch(/monolith: [1-9]\d* write grants restored, 1 sequences set; then reverse slots dropped: 3 \(\d+ ms\)/);
      expect(rb.stdout).toContain('the targets stay read-only');
      expect(rb.stdout).toMatch(/ {2}MACHINES_DATABASE_URL=postgresql:\/\/postgres:\*\*\*@127\.0\.0\.1:\d+\/rb_/);
      expect(rb.stderr).toMatch(/warning: 1 rows of public\.Task break the foreign key Task_machineId_fkey/);
      expect(rb.stdout + rb.stderr).not.toContain(PASSWORD);

      expect((await verifySplit(env, { planFile })).ok).toBe(true);
      expect(await q(db, `SELECT id, "machineId", status::text FROM public."Task" WHERE id IN ('rb-task', 'rb-task2') ORDER BY id`)).toEqual([
        { id: 'rb-task', machineId: 'rb-m', status: 'IN_PROGRESS' }, { id: 'rb-task2', machineId: 'rb-m2', status: 'CREATED' },
      ]);
      // Ignored monolith column: kept on update, its default on insert; defaulted target column: not sent back.
      expect(await q(db, `SELECT id, name, legacy, "lastPing" IS NULL AS noping FROM public."Machine" WHERE id IN ($1, 'rb-m', 'rb-m2') ORDER BY id = 'rb-m'`, [m0])).toEqual([
        { id: m0, name: 'renamed', legacy: 'custom', noping: false }, { id: 'rb-m', name: 'new', legacy: 'L', noping: true },
      ]);
      expect((await q(db, `SELECT "lastPing"::text AS p FROM public."Machine" WHERE id = $1`, [m0]))[0]?.p).toBe('2024-05-01 10:00:00');
      expect((await q(db, `SELECT temperature, length("rawData"::text) AS len FROM public."MachineTelemetry" WHERE id = 'rb-toast'`))[0]).toMatchObject({ temperature: 7 });
      expect(Number((await q(db, `SELECT length("rawData"::text) AS len FROM public."MachineTelemetry" WHERE id = 'rb-toast'`))[0]?.len)).toBeGreaterThan(10_000);
      expect(await q(db, `SELECT ua FROM public."AuditLog" WHERE id IN ('rb-audit', $1)`, [oldAudit])).toEqual([{ ua: 'ua-x' }]);
      expect(await q(db, `SELECT 1 FROM public."MachineTelemetry" WHERE id = $1`, [oldTel])).toEqual([]);
      expect((await q(db, `SELECT count(*)::int AS n FROM public."Transaction" WHERE id = 'rb-tx'`))[0]?.n).toBe(1);
      // The monolith is writable again for the application role, with its grants exactly as before; its sequence is past the maximum.
      expect(await q(db, `SELECT relname, relacl::text FROM pg_class WHERE relnamespace = 'public'::regnamespace AND relkind = 'r' ORDER BY 1`)).toEqual(goldAcl);
      expect(await asServiceRole(cluster, db, `INSERT INTO public."AuditLog" (id, action, entity, "entityId") VALUES ('after-rollback', 'a', 'b', 'c')`)).toBe('written');
      const sales = (await q(db, `INSERT INTO public."MachineTelemetry" (id, "machineId", errors, "rawData") VALUES ('after-rollback', $1, '{}', '{}') RETURNING sales`, [m0]))[0]?.sales;
      expect(Number(sales)).toBeGreaterThan(1_000_000);
      // Nothing left on the targets; they stay read-only for the services.
      expect(await slotNames(cluster, 'rb_slot')).toEqual([]);
      for (const d of [t.db.main, machinesDb, inventoryDb, db]) expect(await publications(cluster, d)).toBe(0);
      expect(await asServiceRole(cluster, machinesDb, `INSERT INTO machines_service.machine_telemetry (id, machine_id, errors, raw_data) VALUES ('late', 'rb-m', '{}', '{}')`)).toBe('42501');
      // Closing the window afterwards reopens the targets; repeating it changes nothing.
      const end = await runCli(['split', 'end-rollback-window', '--slot', slot, ...planArgs], env);
      expect(end.code, end.stderr).toBe(0);
      expect(end.stdout).toMatch(/the monolith stays the system of record/);
      expect(await asServiceRole(cluster, machinesDb, `INSERT INTO machines_service.machine_telemetry (id, machine_id, errors, raw_data) VALUES ('late', 'rb-m', '{}', '{}')`)).toBe('written');
      const again = await runCli(['split', 'end-rollback-window', '--slot', slot, '--json', ...planArgs], env);
      expect(again.code).toBe(0);
      expect(JSON.parse(again.stdout).endRollbackWindow.was).toBe('none');
    } finally {
      await writer?.stop();
      back?.child.kill('SIGKILL');
      await endRollbackWindow(env, { slot }).catch(() => {});
    }
  });

  it('refuses --rollback-window before fencing when a target database has wal_level=replica, naming it and the fix', async () => {
    const db = await cluster.createDatabase('pf', golden);
    const topo = await migratedTargets('shared', 'rb_pf'); // on the shared cluster (wal_level=replica)
    const env = { ...(topo.env as Record<string, string>), SOURCE_DATABASE_URL: cluster.url(db) };
    const slot = 'pf_slot';
    try {
      await startFollowSplit(env, { slot });
      const r = await runCli(['split', 'cutover', '--slot', slot, '--rollback-window', '--json'], env);
      expect(r.code, r.stdout).toBe(8);
      const err = JSON.parse(r.stdout).error;
      expect(err.code).toBe('PREFLIGHT_FAILED');
      expect(err.message).toMatch(/target database 127\.0\.0\.1:5432\/vh_rb_pf_[0-9a-f]+ \(auth, machines, inventory, tasks, shared\) has wal_level=replica/);
      expect(err.message).toContain('ALTER SYSTEM SET wal_level = logical');
      expect(err.message).toContain('nothing was fenced');
      // Nothing fenced, the forward slot still there: following continues, cutover without the window still works.
      expect(await asServiceRole(cluster, db, `INSERT INTO public."AuditLog" (id, action, entity, "entityId") VALUES ('still-open', 'a', 'b', 'c')`)).toBe('written');
      expect(await slotNames(cluster, slot)).toEqual([slot]);
      const plain = await cutover(env, { slot, writersTimeoutMs: 5_000 });
      expect(plain.verify?.ok).toBe(true);
      expect(plain.rollbackWindow).toBeUndefined();
    } finally {
      await abortFollow(env, { slot }).catch(() => {});
      await topo.drop();
    }
  });

  it('option 1 (one target database): follow-back stops on SIGINT with exit 130; abort is refused while the window is open; end-rollback-window removes slot and publication, is repeatable; abort then reopens the monolith', async () => {
    const db = await cluster.createDatabase('end', golden);
    const t = await logicalTargets(cluster, 'shared', 'rbend');
    const env = { ...t.env, SOURCE_DATABASE_URL: cluster.url(db) };
    const slot = 'end_slot';
    try {
      await startFollowSplit(env, { slot });
      const r = await cutover(env, { slot, rollbackWindow: true, writersTimeoutMs: 5_000 });
      expect(r.rollbackWindow).toEqual([expect.objectContaining({ slot: 'end_slot_back_auth', publication: 'end_slot_back_auth_pub', startLsn: expect.stringMatching(/^[0-9A-F]+\/[0-9A-F]+$/) })]);
      expect(r.phases).toHaveProperty('rollback-window');
      expect(await slotNames(cluster, slot)).toEqual(['end_slot_back_auth']);
      await q(t.db.main, `INSERT INTO auth_service.audit_logs (id, action, entity, entity_id) VALUES ('in-window', 'a', 'b', 'c')`);
      const back = await spawnFollowBack(cluster, env, slot, [], 1);
      await waitFor('the row in the monolith', async () => (await q(db, `SELECT 1 FROM public."AuditLog" WHERE id = 'in-window'`)).length === 1);
      back.child.kill('SIGINT');
      expect(await back.exited, back.output()).toBe(130);
      expect(back.output()).toMatch(/follow-back stopped \(interrupted\)[\s\S]*split follow-back` to continue/);

      const abort = await runCli(['split', 'abort', '--slot', slot, '--json'], env);
      expect(abort.code).toBe(8);
      expect(JSON.parse(abort.stdout).error).toMatchObject({ code: 'PREFLIGHT_FAILED', message: expect.stringContaining('rollback window of slot end_slot is open'), hint: expect.stringContaining('split end-rollback-window') });
      expect(await slotNames(cluster, slot)).toEqual(['end_slot_back_auth']);

      const end = await runCli(['split', 'end-rollback-window', '--slot', slot, '--json'], env);
      expect(end.code, end.stdout).toBe(0);
      expect(JSON.parse(end.stdout).endRollbackWindow).toMatchObject({ was: 'open', slots: [{ slot: 'end_slot_back_auth', slotDropped: true, publicationDropped: true, restored: [] }] });
      expect(await slotNames(cluster, slot)).toEqual([]);
      expect(await publications(cluster, t.db.main)).toBe(0);
      expect(await q(db, `SELECT slot FROM _vendhub_split.follow_state`)).toEqual([]);
      const again = await runCli(['split', 'end-rollback-window', '--slot', slot], env);
      expect(again.code).toBe(0);
      expect(again.stdout).toMatch(/slot end_slot_back_auth absent, publication absent, 0 write grants restored/);
      const follow = await runCli(['split', 'follow-back', '--slot', slot, '--json'], env);
      expect(follow.code).toBe(8);
      expect(JSON.parse(follow.stdout).error.message).toContain('no rollback window is open');
      // Staying on the targets: abort (the old rollback) gives the monolith its grants back from its own copy.
      const reopened = await abortFollow(env, { slot });
      expect(reopened.restored.length).toBeGreaterThan(0);
      expect(await asServiceRole(cluster, db, `INSERT INTO public."AuditLog" (id, action, entity, "entityId") VALUES ('reopened', 'a', 'b', 'c')`)).toBe('written');
    } finally {
      await endRollbackWindow(env, { slot }).catch(() => {});
      await abortFollow(env, { slot }).catch(() => {});
    }
  });
});
