import pg from 'pg';
import { Redis } from 'ioredis';
import { PrismaPg } from '@prisma/adapter-pg';
import { describe, expect, it, vi } from 'vitest';
import { PrismaClient as AuthClient } from '../src/generated/auth/client.ts';
import { PrismaClient as InventoryClient } from '../src/generated/inventory/client.ts';
import { PrismaClient as MachinesClient } from '../src/generated/machines/client.ts';
import { createCacheExtension, RedisCacheStore, type CacheExtensionOptions, type CacheStore } from '../src/cache/index.ts';
import { cacheTestDatabases, REDIS_URL } from './helpers/cache.ts';

// Each test gets its own database (a copy of a migrated template) and its own Redis key prefix.
const { fresh: freshDatabase } = cacheTestDatabases('cacheinv', ['auth', 'machines', 'inventory']);

type Opts = Partial<CacheExtensionOptions>;
// These tests are about what is cached and invalidated, not about timeouts (cache-faults covers
// those): a generous limit keeps a loaded machine from turning hits into fail-open misses.
const TIMEOUT_MS = 1_000;

function openPool(url: string): pg.Pool {
  const pool = new pg.Pool({ connectionString: url, max: 5 });
  pool.on('error', () => {});
  return pool;
}

function openAuth(url: string, prefix: string, opts: Opts = {}) {
  const pool = openPool(url);
  const base = new AuthClient({ adapter: new PrismaPg(pool, { schema: 'auth_service' }), log: [{ emit: 'event', level: 'query' }] });
  const counter = { queries: 0 };
  base.$on('query', () => counter.queries++);
  const extension = createCacheExtension({ service: 'auth', redisUrl: REDIS_URL, keyPrefix: prefix, timeoutMs: TIMEOUT_MS, pool, ...opts });
  const prisma = base.$extends(extension);
  return { prisma, extension, counter, close: async () => (await prisma.$cache.close(), await base.$disconnect(), await pool.end()) };
}

function openInventory(url: string, prefix: string, opts: Opts = {}) {
  const pool = openPool(url);
  const base = new InventoryClient({ adapter: new PrismaPg(pool, { schema: 'inventory_service' }) });
  const prisma = base.$extends(createCacheExtension({ service: 'inventory', redisUrl: REDIS_URL, keyPrefix: prefix, timeoutMs: TIMEOUT_MS, ...opts }));
  return { prisma, close: async () => (await prisma.$cache.close(), await base.$disconnect(), await pool.end()) };
}

function openMachines(url: string, prefix: string, opts: Opts = {}) {
  const pool = openPool(url);
  const base = new MachinesClient({ adapter: new PrismaPg(pool, { schema: 'machines_service' }), log: [{ emit: 'event', level: 'query' }] });
  const counter = { queries: 0 };
  base.$on('query', () => counter.queries++);
  const prisma = base.$extends(createCacheExtension({ service: 'machines', redisUrl: REDIS_URL, keyPrefix: prefix, timeoutMs: TIMEOUT_MS, ...opts }));
  return { prisma, counter, close: async () => (await prisma.$cache.close(), await base.$disconnect(), await pool.end()) };
}

type Auth = ReturnType<typeof openAuth>;

/** Fills run after the reader has its answer; wait for them so the next read can hit. */
async function settled(c: { prisma: { $cache: { stats(): { inFlight: number } } } }): Promise<void> {
  await vi.waitFor(() => expect(c.prisma.$cache.stats().inFlight).toBe(0));
}

/** Reads through the cache twice; the second read must not reach the database. */
async function warm<T>(c: Auth, read: () => Promise<T>): Promise<T> {
  await read();
  await settled(c);
  const before = c.counter.queries;
  const value = await read();
  expect(c.counter.queries, 'second read should be a cache hit').toBe(before);
  return value;
}

const user = (n: string, extra: Record<string, unknown> = {}) => ({ email: `${n}@example.com`, name: n, passwordHash: 'h', ...extra });

describe('reads opt in', () => {
  it('caches findUnique, findUniqueOrThrow, findFirst, findMany and count only when asked', async () => {
    const { url, prefix } = await freshDatabase();
    const c = openAuth(url, prefix);
    try {
      const u = await c.prisma.user.create({ data: user('ann') });
      await warm(c, () => c.prisma.user.findUnique({ where: { id: u.id }, cache: true }));
      await warm(c, () => c.prisma.user.findUniqueOrThrow({ where: { email: u.email }, cache: { ttl: 30 } }));
      await warm(c, () => c.prisma.user.findFirst({ where: { name: 'ann' }, cache: true }));
      await warm(c, () => c.prisma.user.findMany({ orderBy: { email: 'asc' }, cache: true }));
      expect(await warm(c, () => c.prisma.user.count({ cache: true }))).toBe(1);
      const before = c.counter.queries;
      await c.prisma.user.findUnique({ where: { id: u.id } });
      await c.prisma.user.findUnique({ where: { id: u.id } });
      expect(c.counter.queries - before).toBe(2);
      const s = c.prisma.$cache.stats();
      expect(s).toMatchObject({ service: 'auth', enabled: true, circuit: 'closed', hits: 5, misses: 5, redisErrors: 0 });
      expect(await c.prisma.$cache.health()).toMatchObject({ status: 'ok', enabled: true });
      // The same handle without the client (for a factory's close() or a metrics exporter), with the pool's counts.
      expect(c.extension.cache.stats()).toMatchObject({ hits: 5, pool: { total: expect.any(Number), idle: expect.any(Number), waiting: 0 } });
    } finally {
      await c.close();
    }
  });

  it('expires entries after ttl and refuses bad cache options with a clear error', async () => {
    const { url, prefix } = await freshDatabase();
    const c = openAuth(url, prefix, { models: { AuditLog: { enabled: false } } });
    try {
      const u = await c.prisma.user.create({ data: user('ttl') });
      // Freshness counts from when the entry's database read started, so the ttl leaves room for a slow fill.
      await warm(c, () => c.prisma.user.findUnique({ where: { id: u.id }, cache: { ttl: 1 } }));
      await new Promise((r) => setTimeout(r, 1_050));
      const before = c.counter.queries;
      await c.prisma.user.findUnique({ where: { id: u.id }, cache: { ttl: 1 } });
      expect(c.counter.queries).toBe(before + 1);
      await expect(c.prisma.user.findMany({ cache: { ttl: -1 } })).rejects.toThrow(/cache.ttl must be a number >= 0.001/);
      // A model with caching disabled is read from the database even when a query asks.
      await c.prisma.auditLog.findMany({ cache: true });
      const mid = c.counter.queries;
      await c.prisma.auditLog.findMany({ cache: true });
      expect(c.counter.queries).toBe(mid + 1);
    } finally {
      await c.close();
    }
  });
});

describe('writes invalidate', () => {
  type Case = { name: string; write: (c: Auth, ids: { a: string; b: string }) => Promise<unknown> };
  const cases: Case[] = [
    { name: 'create', write: (c) => c.prisma.user.create({ data: user('new') }) },
    { name: 'createMany', write: (c) => c.prisma.user.createMany({ data: [user('m1'), user('m2')] }) },
    { name: 'createManyAndReturn', write: (c) => c.prisma.user.createManyAndReturn({ data: [user('r1')] }) },
    { name: 'update', write: (c, { a }) => c.prisma.user.update({ where: { id: a }, data: { name: 'changed' } }) },
    { name: 'updateMany', write: (c) => c.prisma.user.updateMany({ where: { name: 'a' }, data: { name: 'changed' } }) },
    { name: 'upsert (update)', write: (c, { a }) => c.prisma.user.upsert({ where: { id: a }, update: { name: 'changed' }, create: user('zz') }) },
    { name: 'upsert (create)', write: (c) => c.prisma.user.upsert({ where: { email: 'up@example.com' }, update: {}, create: user('up') }) },
    { name: 'delete', write: (c, { a }) => c.prisma.user.delete({ where: { id: a } }) },
    { name: 'deleteMany', write: (c) => c.prisma.user.deleteMany({ where: { name: 'a' } }) },
  ];

  for (const { name, write } of cases) {
    it(`${name}: cached findUnique, findMany and count show the write at once`, async () => {
      const { url, prefix } = await freshDatabase();
      const c = openAuth(url, prefix);
      try {
        const a = await c.prisma.user.create({ data: user('a') });
        const b = await c.prisma.user.create({ data: user('b') });
        const readAll = () =>
          Promise.all([
            c.prisma.user.findUnique({ where: { id: a.id }, cache: true }),
            c.prisma.user.findUnique({ where: { email: 'up@example.com' }, cache: true }),
            c.prisma.user.findMany({ orderBy: { email: 'asc' }, cache: true }),
            c.prisma.user.count({ cache: true }),
          ]);
        await warm(c, readAll);
        await write(c, { a: a.id, b: b.id });
        const afterWrite = await readAll();
        const truth = await Promise.all([
          c.prisma.user.findUnique({ where: { id: a.id } }),
          c.prisma.user.findUnique({ where: { email: 'up@example.com' } }),
          c.prisma.user.findMany({ orderBy: { email: 'asc' } }),
          c.prisma.user.count(),
        ]);
        expect(afterWrite).toEqual(truth);
      } finally {
        await c.close();
      }
    });
  }

  it('a write naming a unique key leaves other rows cached but drops every unique lookup of that row', async () => {
    const { url, prefix } = await freshDatabase();
    const c = openAuth(url, prefix);
    try {
      const a = await c.prisma.user.create({ data: user('a') });
      const b = await c.prisma.user.create({ data: user('b') });
      // One at a time: Prisma merges concurrent findUnique calls into one SQL query, which would blur the count.
      const lookups = async () => [
        await c.prisma.user.findUnique({ where: { id: b.id }, cache: true }),
        await c.prisma.user.findUnique({ where: { id: a.id }, cache: true }),
        await c.prisma.user.findUnique({ where: { email: 'a@example.com' }, cache: true }),
        await c.prisma.user.findUnique({ where: { email: 'a2@example.com' }, cache: true }),
      ];
      await warm(c, lookups);
      // Changes a unique field, naming the old value: old email, new email and id of row a are affected, row b is not.
      await c.prisma.user.update({ where: { email: 'a@example.com' }, data: { email: 'a2@example.com' } });
      let before = c.counter.queries;
      const [bRow, aById, oldEmail, newEmail] = await lookups();
      expect(c.counter.queries - before, 'only the three lookups of row a reload').toBe(3);
      expect(bRow?.id).toBe(b.id);
      expect(aById?.email).toBe('a2@example.com');
      expect(oldEmail).toBeNull();
      expect(newEmail?.id).toBe(a.id);

      // Changing a unique field through another key: the old value is unknown, so every unique lookup of User goes.
      await settled(c);
      await c.prisma.user.update({ where: { id: a.id }, data: { email: 'a3@example.com' } });
      before = c.counter.queries;
      const after = await lookups();
      expect(c.counter.queries - before).toBe(4);
      expect(after[3]).toBeNull();
      expect(after[1]?.email).toBe('a3@example.com');
    } finally {
      await c.close();
    }
  });

  it('reads that include a relation, nested writes and cascades follow the related model', async () => {
    const { url, prefix } = await freshDatabase();
    const c = openAuth(url, prefix);
    try {
      const u = await c.prisma.user.create({ data: user('rel') });
      const withLogs = () => c.prisma.user.findUnique({ where: { id: u.id }, include: { auditLogs: true }, cache: true });
      await warm(c, withLogs);
      await c.prisma.auditLog.create({ data: { userId: u.id, action: 'login', entity: 'User', entityId: u.id } });
      expect((await withLogs())?.auditLogs).toHaveLength(1);

      const logs = () => c.prisma.auditLog.findMany({ where: { entity: 'User' }, cache: true });
      await warm(c, logs);
      // A nested create through the parent writes AuditLog rows.
      await c.prisma.user.update({ where: { id: u.id }, data: { auditLogs: { create: { action: 'logout', entity: 'User', entityId: u.id } } } });
      expect(await logs()).toHaveLength(2);

      await warm(c, logs);
      // Deleting the user sets audit_logs.user_id to NULL (ON DELETE SET NULL): a cascade into AuditLog.
      await c.prisma.user.delete({ where: { id: u.id } });
      expect((await logs()).map((l) => l.userId)).toEqual([null, null]);
    } finally {
      await c.close();
    }
  });

  it('declared tags cross services: an inventory write invalidates a machines read tagged with it', async () => {
    const { url, prefix } = await freshDatabase();
    const inventory = openInventory(url, prefix, {
      models: {
        MachineInventory: { invalidates: ({ rows }) => rows?.map((r) => `machine:${String(r.machineId)}:inventory`) ?? ['machine-inventory'] },
      },
    });
    const machines = openMachines(url, prefix);
    try {
      const m = await machines.prisma.machine.create({ data: { code: 'M1', serialNumber: 'S1', type: 'snack', name: 'Lobby' } });
      const item = await inventory.prisma.inventoryItem.create({ data: { name: 'Cola', sku: 'COLA', unit: 'PCS', category: 'drinks' } });
      const tag = `machine:${m.id}:inventory`;
      const read = () => machines.prisma.machine.findUnique({ where: { id: m.id }, cache: { tags: [tag] } });
      await read();
      await settled(machines);
      let before = machines.counter.queries;
      await read();
      expect(machines.counter.queries).toBe(before);

      await inventory.prisma.machineInventory.create({ data: { machineId: m.id, itemId: item.id, quantity: 5 } });
      before = machines.counter.queries;
      await read();
      expect(machines.counter.queries, 'tag invalidated by the rule').toBe(before + 1);

      await settled(machines);
      // An explicit tag on a write works too, without a rule.
      await inventory.prisma.inventoryItem.update({ where: { id: item.id }, data: { price: 2 }, cache: { tags: [tag] } });
      before = machines.counter.queries;
      await read();
      expect(machines.counter.queries, 'tag invalidated by the write option').toBe(before + 1);
    } finally {
      await inventory.close();
      await machines.close();
    }
  });

  it('undelivered invalidations that overflow (or a failing rule) flush every service, tags crossing services included', async () => {
    const { url, prefix } = await freshDatabase();
    // The inventory cache talks to the real Redis through a store whose bumps can be made to fail.
    const redis = new Redis(REDIS_URL);
    const real = new RedisCacheStore(redis);
    let bumpsFail = false;
    const store: CacheStore = {
      lookup: (e, g) => real.lookup(e, g),
      lease: (r) => real.lease(r),
      fill: (r) => real.fill(r),
      ping: () => real.ping(),
      bump: (seq, keys, ttl) => (bumpsFail ? Promise.reject(new Error('injected: bump not delivered')) : real.bump(seq, keys, ttl)),
    };
    const inventory = openInventory(url, prefix, {
      store, maxPendingInvalidations: 2, circuit: { failureThreshold: 1_000, openMs: 10 },
      models: { MachineInventory: { invalidates: ({ rows }) => rows?.map((r) => `machine:${String(r.machineId)}:inventory`) ?? [] } },
    });
    const machines = openMachines(url, prefix);
    try {
      const m = await machines.prisma.machine.create({ data: { code: 'M1', serialNumber: 'S1', type: 'snack', name: 'Lobby' } });
      const item = await inventory.prisma.inventoryItem.create({ data: { name: 'Cola', sku: 'COLA', unit: 'PCS', category: 'drinks' } });
      const read = () => machines.prisma.machine.findUnique({ where: { id: m.id }, cache: { tags: [`machine:${m.id}:inventory`] } });
      await read();
      await settled(machines);

      // The write's tag (and more than maxPendingInvalidations keys) cannot be delivered: the
      // pending set collapses into the epoch, which must still reach the machines read.
      bumpsFail = true;
      await inventory.prisma.machineInventory.create({ data: { machineId: m.id, itemId: item.id, quantity: 5 } });
      expect(inventory.prisma.$cache.stats().pendingInvalidations).toBe(1);
      bumpsFail = false;
      expect(await inventory.prisma.$cache.health()).toMatchObject({ status: 'ok', pendingInvalidations: 0 });
      const before = machines.counter.queries;
      await read();
      expect(machines.counter.queries, 'the machines read tagged by the lost invalidation is flushed').toBe(before + 1);
    } finally {
      await inventory.close();
      await machines.close();
      redis.disconnect();
    }
  });

  it('keys carry the schema version; a write from either version invalidates both', async () => {
    const { url, prefix } = await freshDatabase();
    const v1 = openAuth(url, prefix, { schemaVersion: 'v1' });
    const v2 = openAuth(url, prefix, { schemaVersion: 'v2' });
    try {
      const u = await v1.prisma.user.create({ data: user('ver') });
      await warm(v1, () => v1.prisma.user.findUnique({ where: { id: u.id }, cache: true }));
      const before = v2.counter.queries;
      await v2.prisma.user.findUnique({ where: { id: u.id }, cache: true });
      expect(v2.counter.queries, 'v2 does not read v1 entries').toBe(before + 1);
      await v2.prisma.user.update({ where: { id: u.id }, data: { name: 'from v2' } });
      expect((await v1.prisma.user.findUnique({ where: { id: u.id }, cache: true }))?.name).toBe('from v2');
    } finally {
      await v1.close();
      await v2.close();
    }
  });

  it('without a Redis URL the cache is off, says so, and queries still work', async () => {
    const { url, prefix } = await freshDatabase();
    const c = openAuth(url, prefix, { redisUrl: undefined });
    try {
      const u = await c.prisma.user.create({ data: user('off') });
      expect((await c.prisma.user.findUnique({ where: { id: u.id }, cache: true }))?.id).toBe(u.id);
      expect(await c.prisma.$cache.health()).toMatchObject({ enabled: false, status: 'off', reason: 'REDIS_URL is not set' });
      expect(c.prisma.$cache.stats()).toMatchObject({ enabled: false, circuit: 'off', hits: 0, misses: 0 });
      // A bad option fails here too, not only where Redis is configured.
      await expect(c.prisma.user.findMany({ cache: { ttl: 0 } })).rejects.toThrow(/CONFIG|cache.ttl/);
      await expect(c.prisma.user.create({ data: user('bad'), cache: { tags: [''] } as never })).rejects.toThrow(/cache.tags/);
      expect(await c.prisma.user.count()).toBe(1); // the bad write was refused before it ran
    } finally {
      await c.close();
    }
  });
});

describe('transactions', () => {
  it('interactive: invalidation fires after commit, not before', async () => {
    const { url, prefix } = await freshDatabase();
    const c = openAuth(url, prefix);
    try {
      const u = await c.prisma.user.create({ data: user('tx') });
      const read = () => c.prisma.user.findUnique({ where: { id: u.id }, cache: true });
      await warm(c, read);
      const sent = c.prisma.$cache.stats().invalidations;
      await c.prisma.$transaction(async (tx) => {
        await tx.user.update({ where: { id: u.id }, data: { name: 'committed' } });
        expect(c.prisma.$cache.stats().invalidations, 'nothing sent before commit').toBe(sent);
        // Another caller still gets the committed (old) value, from the cache.
        expect((await read())?.name).toBe('tx');
        // Reads inside the transaction see its own write and bypass the cache.
        expect((await tx.user.findUnique({ where: { id: u.id }, cache: true }))?.name).toBe('committed');
      });
      expect(c.prisma.$cache.stats().invalidations).toBeGreaterThan(sent);
      expect((await read())?.name).toBe('committed');
      expect(c.prisma.$cache.stats().untrackedTransactionWrites).toBe(0);
    } finally {
      await c.close();
    }
  });

  it('interactive: rollback does not invalidate; nested transactions wait for the outer commit', async () => {
    const { url, prefix } = await freshDatabase();
    const c = openAuth(url, prefix);
    try {
      const u = await c.prisma.user.create({ data: user('rb') });
      const read = () => c.prisma.user.findUnique({ where: { id: u.id }, cache: true });
      await warm(c, read);
      const sent = c.prisma.$cache.stats().invalidations;
      await expect(
        c.prisma.$transaction(async (tx) => {
          await tx.user.update({ where: { id: u.id }, data: { name: 'never' } });
          throw new Error('roll back');
        }),
      ).rejects.toThrow('roll back');
      expect(c.prisma.$cache.stats().invalidations).toBe(sent);
      const hits = c.prisma.$cache.stats().hits;
      expect((await read())?.name).toBe('rb');
      expect(c.prisma.$cache.stats().hits).toBe(hits + 1);

      await c.prisma.$transaction(async (tx) => {
        await tx.$transaction(async (inner) => {
          await inner.user.update({ where: { id: u.id }, data: { name: 'nested' } });
        });
        expect(c.prisma.$cache.stats().invalidations, 'inner commit is not the real commit').toBe(sent);
      });
      expect((await read())?.name).toBe('nested');
    } finally {
      await c.close();
    }
  });

  it('cached reads in a batch or a tx client, or once isClosed says so, go to the database', async () => {
    const { url, prefix } = await freshDatabase();
    let closed = false;
    const c = openAuth(url, prefix, { isClosed: () => closed });
    try {
      const a = await c.prisma.user.create({ data: user('tr') });
      const read = () => c.prisma.user.findUnique({ where: { id: a.id }, cache: true });
      await read();
      const q0 = c.counter.queries;
      expect((await read())?.id).toBe(a.id);
      expect(c.counter.queries).toBe(q0);
      const [inBatch] = await c.prisma.$transaction([c.prisma.user.findUnique({ where: { id: a.id }, cache: true })]);
      expect(inBatch?.id).toBe(a.id);
      const inTx = await c.prisma.$transaction((tx) => tx.user.findUnique({ where: { id: a.id }, cache: true }));
      expect(inTx?.id).toBe(a.id);
      const q1 = c.counter.queries;
      expect(q1).toBeGreaterThanOrEqual(q0 + 2);
      closed = true;
      expect((await read())?.id).toBe(a.id);
      expect(c.counter.queries).toBe(q1 + 1);
    } finally {
      await c.close();
    }
  });

  it('batch: commit invalidates, rollback does not', async () => {
    const { url, prefix } = await freshDatabase();
    const c = openAuth(url, prefix);
    try {
      const a = await c.prisma.user.create({ data: user('ba') });
      const read = () => Promise.all([c.prisma.user.findUnique({ where: { id: a.id }, cache: true }), c.prisma.user.count({ cache: true })]);
      await warm(c, read);
      await c.prisma.$transaction([
        c.prisma.user.update({ where: { id: a.id }, data: { name: 'batched' } }),
        c.prisma.user.create({ data: user('bb') }),
      ]);
      expect(await read()).toEqual([expect.objectContaining({ name: 'batched' }), 2]);

      await warm(c, read);
      const sent = c.prisma.$cache.stats().invalidations;
      await expect(
        c.prisma.$transaction([
          c.prisma.user.update({ where: { id: a.id }, data: { name: 'lost' } }),
          c.prisma.user.create({ data: user('bb') }), // duplicate email: the batch fails and rolls back
        ]),
      ).rejects.toThrow();
      expect(c.prisma.$cache.stats().invalidations).toBe(sent);
      const before = c.counter.queries;
      expect(await read()).toEqual([expect.objectContaining({ name: 'batched' }), 2]);
      expect(c.counter.queries, JSON.stringify(c.prisma.$cache.stats())).toBe(before);
    } finally {
      await c.close();
    }
  });
});
