import pg from 'pg';
import { Redis } from 'ioredis';
import { PrismaPg } from '@prisma/adapter-pg';
import { Prisma } from '@prisma/client/extension';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { createAuthClient } from '../src/clients/auth.client.ts';
import { createInventoryClient } from '../src/clients/inventory.client.ts';
import { createMachinesClient } from '../src/clients/machines.client.ts';
import { createTasksClient, TasksDb } from '../src/clients/tasks.client.ts';
import { PrismaClient as AuthClient } from '../src/generated/auth/client.ts';
import { PrismaClient as TasksClient } from '../src/generated/tasks/client.ts';
import { createCacheExtension } from '../src/cache/index.ts';
import { cacheTestDatabases, REDIS_URL } from './helpers/cache.ts';

// Issue 16: the edges of what the cache understands. Each test owns a database and a key prefix.
const { fresh } = cacheTestDatabases('cacheedge', ['auth', 'machines', 'inventory', 'tasks']);
const redis = new Redis(REDIS_URL);
afterAll(() => redis.quit());

const opts = (prefix: string, extra: Record<string, unknown> = {}) => ({ keyPrefix: prefix, timeoutMs: 1_000, ...extra });
type WithCache = { $cache: { stats(): { inFlight: number; loads: number; hits: number; uncacheable: number } } };
/** Fills run after the reader has its answer; wait for them so the next read can hit. */
const settled = (c: WithCache) => vi.waitFor(() => expect(c.$cache.stats().inFlight).toBe(0));
/** Runs `read` and says whether it reached the database. */
async function loaded<T>(c: WithCache, read: () => Promise<T>): Promise<{ value: T; db: boolean }> {
  await settled(c);
  const before = c.$cache.stats().loads;
  const value = await read();
  return { value, db: c.$cache.stats().loads > before };
}

describe('dependencies of everything Prisma reads', () => {
  it('_count: true (include or select) follows every counted relation', async () => {
    const { url, prefix } = await fresh();
    const env = { DATABASE_URL: url, REDIS_URL };
    const tasks = createTasksClient({ env, cache: opts(prefix) });
    const machines = createMachinesClient({ env, cache: opts(prefix) });
    try {
      const t = await tasks.task.create({ data: { title: 'T', createdById: 'u1' } });
      const readTask = () => tasks.task.findUnique({ where: { id: t.id }, include: { _count: true }, cache: true });
      expect((await readTask())?._count.actions).toBe(0);
      expect((await loaded(tasks, readTask)).db).toBe(false);
      await tasks.taskAction.create({ data: { taskId: t.id, userId: 'u1', action: 'start', comment: '' } });
      expect((await readTask())?._count.actions).toBe(1);

      const loc = await machines.location.create({ data: { name: 'L', address: 'A' } });
      const readLoc = () => machines.location.findMany({ select: { id: true, _count: true }, cache: true });
      expect((await readLoc())[0]?._count.machines).toBe(0);
      await settled(machines);
      const m = await machines.machine.create({ data: { code: 'C1', serialNumber: 'S1', type: 'snack', name: 'M', locationId: loc.id } });
      expect((await readLoc())[0]?._count.machines).toBe(1);

      const readMachine = () => machines.machine.findUnique({ where: { code: 'C1' }, include: { _count: true, location: { include: { _count: true } } }, cache: true });
      expect((await readMachine())?._count).toEqual({ telemetry: 0, serviceHistory: 0 });
      await settled(machines);
      await machines.serviceHistory.create({ data: { machineId: m.id, serviceType: 'clean', description: '', performedById: 'u1' } });
      expect((await readMachine())?._count).toEqual({ telemetry: 0, serviceHistory: 1 });
      await settled(machines);
      await machines.machineTelemetry.createMany({ data: [{ machineId: m.id, rawData: {} }, { machineId: m.id, rawData: {} }] });
      expect((await readMachine())?._count).toEqual({ telemetry: 2, serviceHistory: 1 });
    } finally {
      await tasks.close();
      await machines.close();
    }
  });

  it('the fluent API reads through the cache and depends on the relation it reads', async () => {
    const { url, prefix } = await fresh();
    const machines = createMachinesClient({ env: { DATABASE_URL: url, REDIS_URL }, cache: opts(prefix) });
    try {
      const loc = await machines.location.create({ data: { name: 'L', address: 'a', machines: { create: { code: 'C', serialNumber: 'S', type: 't', name: 'n' } } } });
      // (The `cache` argument's types return a plain PrismaPromise: the fluent methods work at run time but are not typed.)
      type Fluent = { machines(): Promise<unknown[]> };
      const read = () => (machines.location.findUnique({ where: { id: loc.id }, cache: true }) as unknown as Fluent).machines();
      expect(await read()).toHaveLength(1);
      expect((await loaded(machines, read)).db).toBe(false);
      await machines.machine.create({ data: { code: 'D', serialNumber: 'T', type: 't', name: 'n', locationId: loc.id } });
      expect(await read()).toHaveLength(2);
    } finally {
      await machines.close();
    }
  });

  it('a read whose dependencies cannot be derived goes to the database and is counted', async () => {
    const { url, prefix } = await fresh();
    const tasks = createTasksClient({ env: { DATABASE_URL: url, REDIS_URL }, cache: opts(prefix) });
    try {
      await tasks.task.create({ data: { title: 'same', description: 'same', createdById: 'u1' } });
      const read = () => tasks.task.findMany({ where: { title: { equals: tasks.task.fields.description } }, cache: true });
      expect(await read()).toHaveLength(1);
      const second = await loaded(tasks, read);
      expect(second.db || tasks.$cache.stats().loads === 0).toBe(true);
      expect(tasks.$cache.stats().uncacheable).toBe(2);
      await tasks.task.updateMany({ data: { description: 'other' } });
      expect(await read()).toHaveLength(0);
    } finally {
      await tasks.close();
    }
  });
});

describe('write tags come from the rows before and after the write', () => {
  it('MachineInventory: moves, select/omit without machineId, updateMany and deleteMany bump both machines\' tags', async () => {
    const { url, prefix } = await fresh();
    const inventory = createInventoryClient({ env: { DATABASE_URL: url, REDIS_URL }, cache: opts(prefix) });
    const tag = (m: string) => `${prefix}t:machine:${m}:inventory`;
    const gens = () => Promise.all(['A', 'B'].map((m) => redis.get(tag(m))));
    /** Runs `write` and returns which of the machines A, B had their tag bumped. */
    const bumped = async (write: () => Promise<unknown>) => {
      const before = await gens();
      await write();
      const after = await gens();
      return ['A', 'B'].filter((_, i) => after[i] !== before[i]);
    };
    try {
      const item = await inventory.inventoryItem.create({ data: { name: 'Water', sku: 'W', unit: 'PCS', category: 'drinks' } });
      const item2 = await inventory.inventoryItem.create({ data: { name: 'Juice', sku: 'J', unit: 'PCS', category: 'drinks' } });
      const row = await inventory.machineInventory.create({ data: { machineId: 'A', itemId: item.id, quantity: 1 }, select: { id: true } });
      expect(await bumped(() => inventory.machineInventory.create({ data: { machineId: 'B', itemId: item2.id, quantity: 1 }, select: { quantity: true } }))).toEqual(['B']);
      // Moved A → B, the result selects neither the old nor the new machine.
      expect(await bumped(() => inventory.machineInventory.update({ where: { id: row.id }, data: { machineId: 'B', itemId: item.id }, select: { quantity: true } }))).toEqual(['A', 'B']);
      expect(await bumped(() => inventory.machineInventory.update({ where: { id: row.id }, data: { quantity: 2 }, omit: { machineId: true } }))).toEqual(['B']);
      expect(await bumped(() => inventory.machineInventory.updateMany({ where: { machineId: 'B', itemId: item.id }, data: { machineId: 'A' } }))).toEqual(['A', 'B']);
      expect(await bumped(() => inventory.machineInventory.upsert({ where: { id: row.id }, update: { machineId: 'B' }, create: { machineId: 'A', itemId: item.id, quantity: 0 }, select: { id: true } }))).toEqual(['A', 'B']);
      expect(await bumped(() => inventory.machineInventory.updateManyAndReturn({ where: { id: row.id }, data: { machineId: 'A' }, select: { id: true } }))).toEqual(['A', 'B']);
      expect(await bumped(() => inventory.machineInventory.deleteMany({ where: { machineId: 'B' } }))).toEqual(['B']);
      expect(await bumped(() => inventory.machineInventory.delete({ where: { id: row.id }, select: { id: true } }))).toEqual(['A']);
      // Inside a transaction too (the rows are read in it; the bump waits for the commit).
      const r2 = await inventory.machineInventory.create({ data: { machineId: 'A', itemId: item.id, quantity: 1 } });
      expect(
        await bumped(() => inventory.$transaction(async (tx) => tx.machineInventory.update({ where: { id: r2.id }, data: { machineId: 'B' }, select: { id: true } }))),
      ).toEqual(['A', 'B']);
      // And in a batch transaction.
      expect(await bumped(() => inventory.$transaction([inventory.machineInventory.update({ where: { id: r2.id }, data: { machineId: 'A' }, select: { id: true } })]))).toEqual(['A', 'B']);
      expect(await redis.exists(`${prefix}t:machine:undefined:inventory`)).toBe(0);
    } finally {
      await inventory.close();
    }
  });
});

describe('writes that reach a model with a rule only indirectly', () => {
  it('a nested write into MachineInventory (through InventoryItem) and raw SQL on the inventory service invalidate reads tagged by machine', async () => {
    const { url, prefix } = await fresh();
    const env = { DATABASE_URL: url, REDIS_URL };
    const inventory = createInventoryClient({ env, cache: opts(prefix) });
    const machines = createMachinesClient({ env, cache: opts(prefix) });
    try {
      await machines.machine.create({ data: { code: 'A', serialNumber: 'SA', type: 't', name: 'n' } });
      const item = await inventory.inventoryItem.create({ data: { name: 'Water', sku: 'W', unit: 'PCS', category: 'drinks' } });
      const tagged = () => machines.machine.findMany({ select: { code: true }, cache: { tags: ['machine:A:inventory'] } });
      await tagged();
      expect((await loaded(machines, tagged)).db).toBe(false);
      await inventory.inventoryItem.update({ where: { id: item.id }, data: { machineInventory: { create: { machineId: 'A', quantity: 1 } } } });
      expect((await loaded(machines, tagged)).db).toBe(true);
      expect((await loaded(machines, tagged)).db).toBe(false);
      await inventory.$executeRaw`UPDATE inventory_service.machine_inventory SET machine_id = 'B'`;
      expect((await loaded(machines, tagged)).db).toBe(true);
    } finally {
      await inventory.close();
      await machines.close();
    }
  });
});

describe('keys', () => {
  it('clients with different global omits do not share entries', async () => {
    const { url, prefix } = await fresh();
    const pool = new pg.Pool({ connectionString: url, max: 2 });
    const adapter = new PrismaPg(pool, { schema: 'auth_service' });
    const ext = () => createCacheExtension({ service: 'auth', redisUrl: REDIS_URL, keyPrefix: prefix, timeoutMs: 1_000 });
    const full = new AuthClient({ adapter }).$extends(ext());
    const hiding = new AuthClient({ adapter, omit: { user: { passwordHash: true } } }).$extends(ext());
    try {
      const u = await full.user.create({ data: { email: 'o@example.com', name: 'o', passwordHash: 'secret-hash' } });
      expect((await full.user.findUnique({ where: { id: u.id }, cache: true }))?.passwordHash).toBe('secret-hash');
      await settled(full);
      expect(await hiding.user.findUnique({ where: { id: u.id }, cache: true })).not.toHaveProperty('passwordHash');
      await settled(hiding);
      expect((await full.user.findUnique({ where: { id: u.id }, cache: true }))?.passwordHash).toBe('secret-hash');
    } finally {
      await full.$cache.close();
      await hiding.$cache.close();
      await pool.end();
    }
  });


  it('a Json string that spells a null enum is not the null enum (no shared entry)', async () => {
    const { url, prefix } = await fresh();
    const tasks = createTasksClient({ env: { DATABASE_URL: url, REDIS_URL }, cache: opts(prefix) });
    try {
      const t = await tasks.task.create({ data: { title: 'T', createdById: 'u1' } });
      const spelled = await tasks.taskAction.create({ data: { taskId: t.id, userId: 'u', action: 'a', comment: '', metadata: '#EDbNull' } });
      const dbNull = await tasks.taskAction.create({ data: { taskId: t.id, userId: 'u', action: 'b', comment: '' } });
      const nulls = await tasks.taskAction.findMany({ where: { metadata: { equals: TasksDb.Prisma.DbNull } }, select: { id: true }, cache: true });
      expect(nulls).toEqual([{ id: dbNull.id }]);
      await settled(tasks);
      const strings = await tasks.taskAction.findMany({ where: { metadata: { equals: '#EDbNull' } }, select: { id: true }, cache: true });
      expect(strings).toEqual([{ id: spelled.id }]);
    } finally {
      await tasks.close();
    }
  });

  it('findUnique calls batched by Prisma in one tick are each stored and each answer their own key', async () => {
    const { url, prefix } = await fresh();
    const auth = createAuthClient({ env: { DATABASE_URL: url, REDIS_URL }, cache: opts(prefix) });
    try {
      const users = await Promise.all([0, 1, 2, 3, 4].map((i) => auth.user.create({ data: { email: `b${i}@example.com`, name: `b${i}`, passwordHash: 'h' } })));
      const readAll = () => Promise.all(users.map((u) => auth.user.findUnique({ where: { id: u.id }, select: { name: true }, cache: true })));
      expect(await readAll()).toEqual(users.map((u) => ({ name: u.name })));
      await settled(auth);
      expect(auth.$cache.stats()).toMatchObject({ fills: 5, uncacheable: 0 });
      expect((await loaded(auth, readAll)).value).toEqual(users.map((u) => ({ name: u.name })));
      expect(auth.$cache.stats().hits).toBe(5);
    } finally {
      await auth.close();
    }
  });

  it('arguments changed between the call and the await: the entry of each argument holds its own rows', async () => {
    const { url, prefix } = await fresh();
    const tasks = createTasksClient({ env: { DATABASE_URL: url, REDIS_URL }, cache: opts(prefix) });
    try {
      await tasks.task.create({ data: { title: 'a', createdById: 'u1' } });
      await tasks.task.create({ data: { title: 'b', createdById: 'u1' } });
      const where = { title: 'a' };
      const pending = tasks.task.findMany({ where, select: { title: true }, cache: true });
      where.title = 'b';
      await pending;
      await settled(tasks);
      expect(await tasks.task.findMany({ where: { title: 'a' }, select: { title: true }, cache: true })).toEqual([{ title: 'a' }]);
      await settled(tasks);
      expect(await tasks.task.findMany({ where: { title: 'b' }, select: { title: true }, cache: true })).toEqual([{ title: 'b' }]);
      expect(await tasks.task.findMany({ where: { title: 'a' }, select: { title: true }, cache: true })).toEqual([{ title: 'a' }]);
    } finally {
      await tasks.close();
    }
  });

  it('two databases sharing one Redis and prefix (default options) never read each other\'s rows', async () => {
    const one = await fresh();
    const two = await fresh();
    const a = createAuthClient({ env: { DATABASE_URL: one.url, REDIS_URL }, cache: opts(one.prefix) });
    const b = createAuthClient({ env: { DATABASE_URL: two.url, REDIS_URL }, cache: opts(one.prefix) });
    try {
      await a.user.create({ data: { id: 'same', email: 'x@example.com', name: 'production', passwordHash: 'h' } });
      await b.user.create({ data: { id: 'same', email: 'x@example.com', name: 'rehearsal', passwordHash: 'h' } });
      expect((await a.user.findUnique({ where: { id: 'same' }, cache: true }))?.name).toBe('production');
      expect((await a.user.findMany({ select: { name: true }, cache: true }))[0]?.name).toBe('production');
      await settled(a);
      expect((await b.user.findUnique({ where: { id: 'same' }, cache: true }))?.name).toBe('rehearsal');
      expect((await b.user.findMany({ select: { name: true }, cache: true }))[0]?.name).toBe('rehearsal');
    } finally {
      await a.close();
      await b.close();
    }
  });
});

const label = { result: { task: { label: { needs: { title: true, status: true }, compute: (t: { title: string; status: string }) => `${t.status}:${t.title}` } } } };

describe('Prisma extensions compose with the cache, in both orders', () => {
  it('result extensions: computed fields on cached and uncached reads, with Redis or without, selectable', async () => {
    const { url, prefix } = await fresh();
    const after = createTasksClient({ env: { DATABASE_URL: url, REDIS_URL }, cache: opts(prefix) }).$extends(label);
    const off = createTasksClient({ env: { DATABASE_URL: url } }).$extends(label);
    const pool = new pg.Pool({ connectionString: url, max: 2 });
    const base = new TasksClient({ adapter: new PrismaPg(pool, { schema: 'tasks_service' }) });
    const before = base.$extends(label).$extends(createCacheExtension({ service: 'tasks', redisUrl: REDIS_URL, keyPrefix: prefix, timeoutMs: 1_000 }));
    try {
      const t = await after.task.create({ data: { title: 'T', createdById: 'u1' } });
      expect(t.label).toBe('CREATED:T');
      for (const [name, c] of [['after', after], ['off', off], ['before', before]] as const) {
        for (let i = 0; i < 2; i++) {
          expect((await c.task.findUnique({ where: { id: t.id }, cache: true }))?.label, name).toBe('CREATED:T');
          expect((await c.task.findUnique({ where: { id: t.id } }))?.label, name).toBe('CREATED:T');
          expect((await c.task.findMany({ cache: true }))[0]?.label, name).toBe('CREATED:T');
          expect(JSON.parse(JSON.stringify(await c.task.findFirst({ where: { id: t.id }, select: { label: true }, cache: true }))), name).toEqual({ label: 'CREATED:T' });
          expect(await c.task.findFirst({ where: { id: t.id }, omit: { title: true }, cache: true }), name).toMatchObject({ label: 'CREATED:T', status: 'CREATED' });
          if ('$cache' in c) await settled(c as unknown as WithCache);
        }
      }
      expect(after.$cache.stats().hits).toBeGreaterThan(0);
      expect(before.$cache.stats().hits).toBeGreaterThan(0);
      await after.task.update({ where: { id: t.id }, data: { status: 'COMPLETED' } });
      expect((await after.task.findUnique({ where: { id: t.id }, cache: true }))?.label).toBe('COMPLETED:T');
      expect((await before.task.findUnique({ where: { id: t.id }, cache: true }))?.label).toBe('COMPLETED:T');
    } finally {
      await after.close();
      await off.close();
      await before.$cache.close();
      await base.$disconnect();
      await pool.end();
    }
  });

  it('query extensions: applied before the cache they shape what is cached; applied after it, one that changes arguments or results is never stored', async () => {
    const { url, prefix } = await fresh();
    const env = { DATABASE_URL: url, REDIS_URL };
    const pool = new pg.Pool({ connectionString: url, max: 2 });
    const base = new TasksClient({ adapter: new PrismaPg(pool, { schema: 'tasks_service' }) });
    const context = { status: 'CREATED' as 'CREATED' | 'COMPLETED', mask: false };
    // Before (outside) the cache: a per-context filter the cache sees in the arguments.
    const outer = base
      .$extends({ query: { task: { findMany: ({ args, query }) => query({ ...args, where: { ...args.where, status: context.status } }) } } })
      .$extends(createCacheExtension({ service: 'tasks', redisUrl: REDIS_URL, keyPrefix: prefix, timeoutMs: 1_000 }));
    // After (inside) the cache: the same filter, and a result mask, the cache cannot see.
    const inner = createTasksClient({ env, cache: opts(prefix) }).$extends({
      query: {
        task: {
          findMany: ({ args, query }) => query({ ...args, where: { ...args.where, status: context.status } }),
          findFirst: async ({ args, query }) => {
            const row = await query(args);
            return row && context.mask ? { ...row, title: '***' } : row;
          },
        },
      },
    });
    try {
      await base.task.create({ data: { title: 'new', createdById: 'u1' } });
      await base.task.create({ data: { title: 'done', status: 'COMPLETED', createdById: 'u1' } });
      for (const c of [outer, inner]) {
        for (const status of ['CREATED', 'COMPLETED', 'CREATED', 'COMPLETED'] as const) {
          context.status = status;
          const rows = await c.task.findMany({ select: { title: true }, cache: true });
          expect(rows).toEqual([{ title: status === 'CREATED' ? 'new' : 'done' }]);
          await settled(c as unknown as WithCache);
        }
      }
      expect(outer.$cache.stats().hits).toBe(2);
      expect(inner.$cache.stats().hits).toBe(0);
      for (const mask of [false, true, false, true]) {
        context.mask = mask;
        expect((await inner.task.findFirst({ where: { title: 'new' }, cache: true }))?.title).toBe(mask ? '***' : 'new');
        await settled(inner as unknown as WithCache);
      }
      expect(inner.$cache.stats().uncacheable).toBeGreaterThanOrEqual(4);
    } finally {
      await outer.$cache.close();
      await inner.close();
      await base.$disconnect();
      await pool.end();
    }
  });

  it('model and client extensions, applied before or after the cache, keep caching and invalidation', async () => {
    const { url, prefix } = await fresh();
    const pool = new pg.Pool({ connectionString: url, max: 3 });
    const base = new TasksClient({ adapter: new PrismaPg(pool, { schema: 'tasks_service' }) });
    const methods = {
      model: {
        task: {
          async titles(this: unknown): Promise<string[]> {
            const ctx = Prisma.getExtensionContext(this) as unknown as { findMany(a: unknown): Promise<{ title: string }[]> };
            return (await ctx.findMany({ select: { title: true }, orderBy: { title: 'asc' }, cache: true })).map((t) => t.title);
          },
        },
      },
      client: { $hello: () => 'hello' },
    };
    const cacheExt = () => createCacheExtension({ service: 'tasks', redisUrl: REDIS_URL, keyPrefix: prefix, timeoutMs: 1_000 });
    const clients = [base.$extends(methods).$extends(cacheExt()), base.$extends(cacheExt()).$extends(methods)];
    try {
      for (const c of clients) {
        expect(c.$hello()).toBe('hello');
        expect((await c.$cache.health()).status).toBe('ok');
        const first = await c.task.titles();
        await settled(c);
        const hitsBefore = c.$cache.stats().hits;
        expect(await c.task.titles()).toEqual(first);
        expect(c.$cache.stats(), JSON.stringify(c.$cache.stats())).toMatchObject({ hits: hitsBefore + 1 });
        await c.$transaction(async (tx) => tx.task.create({ data: { title: `t${first.length}`, createdById: 'u1' } }));
        expect(await c.task.titles()).toEqual([...first, `t${first.length}`]);
      }
    } finally {
      for (const c of clients) await c.$cache.close();
      await base.$disconnect();
      await pool.end();
    }
  });
});

describe('raw SQL and per-read ttl', () => {
  it('$executeRaw and $executeRawUnsafe invalidate the service (after commit in a transaction); rawWrites: ignore opts out', async () => {
    const { url, prefix } = await fresh();
    const env = { DATABASE_URL: url, REDIS_URL };
    const tasks = createTasksClient({ env, cache: opts(prefix) });
    const precise = createTasksClient({ env, cache: opts(prefix, { rawWrites: 'ignore' }) });
    try {
      const t = await tasks.task.create({ data: { title: 'v0', createdById: 'u1' } });
      await tasks.taskAction.create({ data: { taskId: t.id, userId: 'u', action: 'a', comment: '' } });
      const title = async (c: typeof tasks) => (await c.task.findUnique({ where: { id: t.id }, cache: true }))?.title;
      const count = (c: typeof tasks) => c.taskAction.count({ where: { taskId: t.id }, cache: true });
      expect(await title(tasks)).toBe('v0');
      expect(await count(tasks)).toBe(1);
      await settled(tasks);
      await tasks.$executeRaw`UPDATE tasks_service.tasks SET title = 'v1' WHERE id = ${t.id}`;
      expect(await title(tasks)).toBe('v1');
      await tasks.$executeRawUnsafe('DELETE FROM tasks_service.task_actions WHERE task_id = $1', t.id);
      expect(await count(tasks)).toBe(0);
      await settled(tasks);
      await tasks.$transaction(async (tx) => {
        await tx.$executeRaw`UPDATE tasks_service.tasks SET title = 'v2' WHERE id = ${t.id}`;
        expect(await title(tasks)).toBe('v1');
      });
      expect(await title(tasks)).toBe('v2');
      // Opted out: the caller invalidates precisely.
      await settled(tasks);
      expect(await title(precise)).toBe('v2');
      await precise.$executeRaw`UPDATE tasks_service.tasks SET title = 'v3' WHERE id = ${t.id}`;
      expect(await title(precise)).toBe('v2');
      await precise.$cache.invalidateModels(['Task']);
      expect(await title(precise)).toBe('v3');
    } finally {
      await tasks.close();
      await precise.close();
    }
  });

  it('a read\'s ttl bounds its staleness even when a read with a longer ttl filled the entry', async () => {
    const { url, prefix } = await fresh();
    const auth = createAuthClient({ env: { DATABASE_URL: url, REDIS_URL }, cache: opts(prefix) });
    try {
      const u = await auth.user.create({ data: { email: 'ttl@example.com', name: 'old', passwordHash: 'h' } });
      const read = (ttl: number) => auth.user.findUnique({ where: { id: u.id }, cache: { ttl } });
      expect((await read(600))?.name).toBe('old');
      await settled(auth);
      // Changed outside the cache: only the ttl bounds what a read may still see.
      const direct = new pg.Client({ connectionString: url });
      await direct.connect();
      await direct.query(`UPDATE auth_service.users SET name = 'new'`);
      await direct.end();
      await new Promise((r) => setTimeout(r, 400));
      expect((await read(600))?.name).toBe('old');
      expect((await auth.user.findUnique({ where: { id: u.id }, cache: { ttl: 0.3, swr: 0 } }))?.name).toBe('new');
    } finally {
      await auth.close();
    }
  });

  it('the same bound holds for copies in the local tier', async () => {
    const { url, prefix } = await fresh();
    const auth = createAuthClient({ env: { DATABASE_URL: url, REDIS_URL }, cache: opts(prefix, { local: { ttl: 60 } }) });
    try {
      await vi.waitFor(() => expect(auth.$cache.stats().local).toBe('on'), { timeout: 5_000 });
      const u = await auth.user.create({ data: { email: 'lt@example.com', name: 'old', passwordHash: 'h' } });
      const read = (ttl: number) => auth.user.findUnique({ where: { id: u.id }, cache: { ttl, swr: 0, local: true } });
      for (let i = 0; i < 5 && auth.$cache.stats().localHits === 0; i++) {
        await read(600);
        await settled(auth);
      }
      expect(auth.$cache.stats().localHits).toBeGreaterThan(0);
      const direct = new pg.Client({ connectionString: url });
      await direct.connect();
      await direct.query(`UPDATE auth_service.users SET name = 'new'`);
      await direct.end();
      await new Promise((r) => setTimeout(r, 400));
      expect((await read(600))?.name).toBe('old');
      expect((await read(0.3))?.name).toBe('new');
    } finally {
      await auth.close();
    }
  });
});
