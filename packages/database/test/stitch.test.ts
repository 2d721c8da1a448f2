import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAuthClient, createMachinesClient, createTasksClient } from '../src/index.ts';
import { attachRelated, relatedCount, relatedMany, relatedOne } from '../src/stitch/attach-related.ts';
import { createTestDatabase, type TestDatabase } from './helpers/pg.ts';
import { migrateAll } from './helpers/topology.ts';

/** Counts the queries a delegate receives, to prove the batching (one findMany per chunk). */
function counting<D extends object>(delegate: D, calls: unknown[]): D {
  return new Proxy(delegate, {
    get(t, p, r) {
      const v = Reflect.get(t, p, r);
      return typeof v === 'function' ? (args: unknown) => (calls.push(args), v.call(t, args)) : v;
    },
  });
}

describe('attachRelated: what was an include across services', () => {
  let db: TestDatabase;
  let auth: ReturnType<typeof createAuthClient>;
  let machines: ReturnType<typeof createMachinesClient>;
  let tasks: ReturnType<typeof createTasksClient>;
  const ids: { users: string[]; machines: string[] } = { users: [], machines: [] };

  beforeAll(async () => {
    db = await createTestDatabase('stitch');
    await migrateAll({ DATABASE_URL: db.url });
    const env = { DATABASE_URL: db.url };
    auth = createAuthClient({ env });
    machines = createMachinesClient({ env });
    tasks = createTasksClient({ env });
    for (let i = 0; i < 3; i++) ids.users.push((await auth.user.create({ data: { email: `u${i}@x`, name: `User ${i}`, passwordHash: 'h' } })).id);
    for (let i = 0; i < 2; i++) ids.machines.push((await machines.machine.create({ data: { code: `M-${i}`, serialNumber: `S-${i}`, type: 'snack', name: `Machine ${i}` } })).id);
    // 7 tasks: user 0 assigned 4, user 1 assigned 2, one unassigned; machine 0 has 5, machine 1 has 2.
    const plan: [number | null, number, string][] = [[0, 0, 'ASSIGNED'], [0, 0, 'ASSIGNED'], [0, 0, 'COMPLETED'], [0, 1, 'ASSIGNED'], [1, 0, 'ASSIGNED'], [1, 1, 'CREATED'], [null, 0, 'CREATED']];
    for (const [i, [u, m, status]] of plan.entries()) {
      await tasks.task.create({ data: { title: `T${i}`, status: status as 'ASSIGNED', assignedToId: u === null ? null : ids.users[u]!, machineId: ids.machines[m]!, createdById: ids.users[2]! } });
    }
  });
  afterAll(async () => {
    await Promise.all([auth?.close(), machines?.close(), tasks?.close()]);
    await db?.drop();
  });

  it('to-one: one batched findMany per relation, ids deduplicated, attached under the include key; null stays null', async () => {
    const calls: unknown[] = [];
    const rows = await tasks.task.findMany({ orderBy: { title: 'asc' } });
    const out = await attachRelated(rows, {
      assignedTo: relatedOne(counting(auth.user, calls), { by: 'assignedToId', select: { name: true } }),
      createdBy: relatedOne(auth.user, { by: 'createdById' }),
    });
    expect(calls).toHaveLength(1);
    expect((calls[0] as { where: { id: { in: string[] } } }).where.id.in.sort()).toEqual([ids.users[0], ids.users[1]].sort());
    expect(out.map((t) => t.assignedTo?.name ?? null)).toEqual(['User 0', 'User 0', 'User 0', 'User 0', 'User 1', 'User 1', null]);
    // the select is honoured: the key added to match rows up is not left on the attached row
    expect(out[0]!.assignedTo).toEqual({ name: 'User 0' });
    expect(out[0]!.createdBy?.email).toBe('u2@x');
    const typed: string | undefined = out[0]!.assignedTo?.name;
    expect(typed).toBe('User 0');
    // typed by Prisma's own result type: a field outside the select is a compile error
    // @ts-expect-error email was not selected
    expect(out[0]!.assignedTo?.email).toBeUndefined();
  });

  it('the same answer as the monolith include would give, chunked: 7 tasks, chunkSize 1 → one query per distinct id', async () => {
    const calls: unknown[] = [];
    const rows = await tasks.task.findMany({ orderBy: { title: 'asc' } });
    const out = await attachRelated(rows, { machine: relatedOne(counting(machines.machine, calls), { by: 'machineId', chunkSize: 1 }) });
    expect(calls).toHaveLength(2);
    expect(out.map((t) => t.machine?.code)).toEqual(['M-0', 'M-0', 'M-0', 'M-1', 'M-0', 'M-1', 'M-0']);
  });

  it('to-many with where/orderBy, and counts by groupBy, under _count', async () => {
    const calls: unknown[] = [];
    const rows = await machines.machine.findMany({ orderBy: { code: 'asc' } });
    const out = await attachRelated(rows, {
      tasks: relatedMany(counting(tasks.task, calls), { on: 'machineId', where: { status: { not: 'COMPLETED' } }, orderBy: { title: 'desc' }, select: { title: true } }),
      _count: { tasks: relatedCount(tasks.task, { on: 'machineId' }), openTasks: relatedCount(tasks.task, { on: 'machineId', where: { status: 'ASSIGNED' } }) },
    });
    expect(calls).toHaveLength(1);
    expect(out.map((m) => m.tasks.map((t) => t.title))).toEqual([['T6', 'T4', 'T1', 'T0'], ['T5', 'T3']]);
    expect(out.map((m) => m._count)).toEqual([{ tasks: 5, openTasks: 3 }, { tasks: 2, openTasks: 1 }]);
    const n: number = out[0]!._count.tasks;
    expect(n).toBe(5);
  });

  it('a row whose related row is gone (a dangling soft reference) gets null, not an error; a cache saves the second query', async () => {
    const rows = [{ id: 'x', assignedToId: 'no-such-user' }, { id: 'y', assignedToId: ids.users[0]! }];
    const cache = new Map<string, unknown>();
    const calls: unknown[] = [];
    await attachRelated(rows, { assignedTo: relatedOne(counting(auth.user, calls), { by: 'assignedToId', cache, cacheKey: 'User' }) });
    expect(rows.map((r) => (r as unknown as { assignedTo: { name: string } | null }).assignedTo?.name ?? null)).toEqual([null, 'User 0']);
    const again = [{ id: 'z', assignedToId: ids.users[0]! }];
    await attachRelated(again, { assignedTo: relatedOne(counting(auth.user, calls), { by: 'assignedToId', cache, cacheKey: 'User' }) });
    expect(calls).toHaveLength(1);
    expect((again[0] as unknown as { assignedTo?: { name: string } }).assignedTo?.name).toBe('User 0');
  });

  it('args reach each findMany (cache: true for the service cache) and cannot replace the spec\'s own where', async () => {
    const calls: unknown[] = [];
    const rows = await tasks.task.findMany({ orderBy: { title: 'asc' } });
    const out = await attachRelated(rows, {
      assignedTo: relatedOne(counting(auth.user, calls), { by: 'assignedToId', select: { name: true }, args: { cache: true, where: { id: 'none' } } }),
    });
    const mrows = await machines.machine.findMany({ orderBy: { code: 'asc' } });
    await attachRelated(mrows, { tasks: relatedMany(counting(tasks.task, calls), { on: 'machineId', select: { title: true }, args: { cache: { ttl: 5 }, where: { id: 'none' } } }) });
    expect(calls.map((c) => (c as { cache: unknown }).cache)).toEqual([true, { ttl: 5 }]);
    expect(out.map((t) => t.assignedTo?.name ?? null)).toEqual(['User 0', 'User 0', 'User 0', 'User 0', 'User 1', 'User 1', null]);
    expect(mrows.map((m) => (m as unknown as { tasks: unknown[] }).tasks.length)).toEqual([5, 2]);
  });

  it('keys come in the order of the specs, as with an include, whichever query returns first', async () => {
    // Delays every call of a delegate, so the other relations' queries finish before it.
    const slow = <D extends object>(delegate: D): D => new Proxy(delegate, {
      get(t, p, r) {
        const v = Reflect.get(t, p, r);
        return typeof v === 'function' ? async (args: unknown) => (await new Promise((res) => setTimeout(res, 200)), v.call(t, args)) : v;
      },
    });
    const rows = await machines.machine.findMany({ orderBy: { code: 'asc' }, select: { id: true, code: true } });
    await attachRelated(rows, {
      tasks: relatedMany(slow(tasks.task), { on: 'machineId', select: { title: true }, orderBy: { title: 'asc' } }),
      _count: { tasks: relatedCount(slow(tasks.task), { on: 'machineId' }), open: relatedCount(tasks.task, { on: 'machineId', where: { status: 'ASSIGNED' } }) },
    });
    expect(JSON.stringify(rows[1])).toBe(JSON.stringify({ id: ids.machines[1], code: 'M-1', tasks: [{ title: 'T3' }, { title: 'T5' }], _count: { tasks: 2, open: 1 } }));
  });

  it('refuses a bad chunk size and an empty input costs no query', async () => {
    await expect(attachRelated([{ id: 'a', machineId: 'm' }], { machine: relatedOne(machines.machine, { by: 'machineId', chunkSize: 0 }) })).rejects.toThrow(/chunkSize/);
    const calls: unknown[] = [];
    await attachRelated([] as { machineId: string }[], { machine: relatedOne(counting(machines.machine, calls), { by: 'machineId' }) });
    expect(calls).toHaveLength(0);
  });
});
