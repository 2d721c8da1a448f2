import pg from 'pg';
import { Redis } from 'ioredis';
import { PrismaPg } from '@prisma/adapter-pg';
import { describe, expect, it, vi } from 'vitest';
import { PrismaClient as AuthClient } from '../src/generated/auth/client.ts';
import { createCacheExtension, type CacheExtensionOptions } from '../src/cache/index.ts';
import { cacheTestDatabases, REDIS_URL } from './helpers/cache.ts';

const { fresh: freshDatabase } = cacheTestDatabases('cacheconc', ['auth']);

/**
 * A pool that can hold SELECT results back before handing them to Prisma: the read has happened
 * in PostgreSQL, its answer reaches the cache later, as on a slow network or a paused process.
 */
class HoldingPool extends pg.Pool {
  hold: ((sql: string) => Promise<void> | undefined) | undefined;
  override query(...args: unknown[]): never {
    const run = (super.query as (...a: unknown[]) => Promise<unknown>).apply(this, args);
    const sql = typeof args[0] === 'string' ? args[0] : String((args[0] as { text?: string }).text ?? '');
    if (!sql.startsWith('SELECT')) return run as never;
    // Asked once PostgreSQL has answered: the row read is already the old one.
    return run.then(async (r) => {
      await this.hold?.(sql);
      return r;
    }) as never;
  }
}

/**
 * One client = one "process": its own pool, Prisma client, and cache instance (own in-flight map).
 * The Redis timeout is generous: these tests count database reads, and a loaded machine must not
 * turn a coalesced wait into a fail-open read (cache-faults tests the timeout).
 */
function openProcess(url: string, prefix: string, opts: Partial<CacheExtensionOptions> = {}) {
  const pool = new HoldingPool({ connectionString: url, max: 8 });
  pool.on('error', () => {});
  const base = new AuthClient({ adapter: new PrismaPg(pool, { schema: 'auth_service' }), log: [{ emit: 'event', level: 'query' }] });
  const counter = { queries: 0 };
  base.$on('query', (e) => {
    if (e.query.startsWith('SELECT')) counter.queries++;
  });
  const prisma = base.$extends(createCacheExtension({ service: 'auth', redisUrl: REDIS_URL, keyPrefix: prefix, timeoutMs: 1_000, ...opts }));
  return { prisma, pool, counter, close: async () => (await prisma.$cache.close(), await base.$disconnect(), await pool.end()) };
}

const settled = (c: ReturnType<typeof openProcess>) => vi.waitFor(() => expect(c.prisma.$cache.stats().inFlight).toBe(0));
const user = (n: string) => ({ email: `${n}@example.com`, name: n, passwordHash: 'h' });

describe('stampede guard', () => {
  it('1,000 concurrent misses on one key in one process cause exactly one database read', async () => {
    const { url, prefix } = await freshDatabase();
    const c = openProcess(url, prefix);
    try {
      await c.prisma.user.create({ data: user('hot') });
      // Baseline: the same burst without the cache reads the database many times.
      let before = c.counter.queries;
      await Promise.all(Array.from({ length: 200 }, () => c.prisma.user.findFirst({ where: { email: 'hot@example.com' } })));
      expect(c.counter.queries - before).toBeGreaterThan(1);

      before = c.counter.queries;
      const results = await Promise.all(Array.from({ length: 1000 }, () => c.prisma.user.findFirst({ where: { email: 'hot@example.com' }, cache: true })));
      expect(c.counter.queries - before).toBe(1);
      expect(new Set(results.map((r) => r?.email))).toEqual(new Set(['hot@example.com']));
      expect(results[0]).not.toBe(results[1]); // coalesced callers still get their own objects
      const s = c.prisma.$cache.stats();
      expect(s.loads).toBe(1);
      expect(s.coalescedWaits).toBe(999);
      expect(s.redisErrors).toBe(0);

      before = c.counter.queries;
      await Promise.all(Array.from({ length: 1000 }, () => c.prisma.user.findUnique({ where: { email: 'hot@example.com' }, cache: true })));
      expect(c.counter.queries - before).toBe(1);
    } finally {
      await c.close();
    }
  });

  it('concurrent misses across processes cause one database read: the others wait on the fill lease', async () => {
    const { url, prefix } = await freshDatabase();
    const procs = [0, 1, 2].map(() => openProcess(url, prefix, { leaseWaitMs: 3_000 }));
    try {
      await procs[0]!.prisma.user.create({ data: user('shared') });
      const before = procs.map((p) => p.counter.queries);
      const all = await Promise.all(
        procs.flatMap((p) => Array.from({ length: 300 }, () => p.prisma.user.findFirst({ where: { email: 'shared@example.com' }, cache: true }))),
      );
      expect(all.every((r) => r?.email === 'shared@example.com')).toBe(true);
      const reads = procs.reduce((n, p, i) => n + p.counter.queries - before[i]!, 0);
      expect(reads).toBe(1);
      expect(procs.reduce((n, p) => n + p.prisma.$cache.stats().loads, 0)).toBe(1);
    } finally {
      await Promise.all(procs.map((p) => p.close()));
    }
  });

  it('stale-while-revalidate serves the old value during the refresh, and one caller refreshes', async () => {
    const { url, prefix } = await freshDatabase();
    const c = openProcess(url, prefix);
    try {
      const u = await c.prisma.user.create({ data: user('swr') });
      const read = () => c.prisma.user.findFirst({ where: { id: u.id }, cache: { ttl: 0.15, swr: 30 } });
      await read();
      await settled(c);
      await new Promise((r) => setTimeout(r, 200));
      const before = c.counter.queries;
      const stale = await Promise.all(Array.from({ length: 50 }, read));
      expect(stale.every((r) => r?.id === u.id)).toBe(true);
      expect(c.prisma.$cache.stats().staleServed).toBe(50);
      await settled(c);
      expect(c.counter.queries - before).toBe(1);
      const hits = c.prisma.$cache.stats().hits;
      await read();
      expect(c.prisma.$cache.stats().hits).toBe(hits + 1);
      // swr never covers invalidation: after a write the old value is gone at once.
      await c.prisma.user.update({ where: { id: u.id }, data: { name: 'new' } });
      expect((await read())?.name).toBe('new');
    } finally {
      await c.close();
    }
  });
});

describe('no stale refill', () => {
  it('a reader that loaded the old row before a write cannot store it after the write invalidated', async () => {
    const { url, prefix } = await freshDatabase();
    const reader = openProcess(url, prefix);
    const writer = openProcess(url, prefix);
    try {
      const u = await writer.prisma.user.create({ data: user('race') });
      let release!: () => void;
      let selected!: () => void;
      const gate = new Promise<void>((r) => (release = r));
      const loadedOld = new Promise<void>((r) => (selected = r));
      reader.pool.hold = () => (selected(), gate);

      // 1. The reader misses and reads the old row; its answer is held back.
      // (.then starts it: Prisma queries are lazy until awaited.)
      const slowRead = reader.prisma.user.findUnique({ where: { id: u.id }, cache: true }).then((r) => r);
      await loadedOld;
      reader.pool.hold = undefined;
      // 2. The writer commits and invalidates (the await returns once the invalidation is done).
      await writer.prisma.user.update({ where: { id: u.id }, data: { name: 'new' } });
      // 3. The reader gets its old row and tries to store it.
      release();
      expect((await slowRead)?.name).toBe('race'); // it started before the write: the old row is a fair answer
      await settled(reader);
      expect(reader.prisma.$cache.stats().staleFillsRejected).toBe(1);
      expect(reader.prisma.$cache.stats().fills).toBe(0);
      // 4. Nobody sees the old row from now on.
      expect((await reader.prisma.user.findUnique({ where: { id: u.id }, cache: true }))?.name).toBe('new');
      expect((await writer.prisma.user.findUnique({ where: { id: u.id }, cache: true }))?.name).toBe('new');
    } finally {
      await reader.close();
      await writer.close();
    }
  });

  it('concurrent readers and writers in several processes: zero stale reads after a write was acknowledged', async () => {
    const { url, prefix } = await freshDatabase();
    // Redis failures are collected with their message: a timeout (1 s) on an overloaded machine fails
    // open to the database, which cannot be stale; any other failure is a bug and is shown.
    const failures: string[] = [];
    const procs = [0, 1].map(() => openProcess(url, prefix, { onError: (e) => failures.push(`${e.name}: ${e.message}`) }));
    for (const p of procs) p.pool.hold = () => new Promise((r) => setTimeout(r, Math.random() * 4));
    try {
      const rows = await Promise.all([0, 1, 2].map((i) => procs[0]!.prisma.user.create({ data: { ...user(`r${i}`), name: '0' } })));
      const acked = rows.map(() => 0);
      const deadline = Date.now() + 4_000;
      let reads = 0;
      const stale: string[] = [];
      const writer = async (i: number) => {
        for (let v = 1; Date.now() < deadline; v++) {
          const p = procs[v % procs.length]!;
          await p.prisma.user.update({ where: { id: rows[i]!.id }, data: { name: String(v) } });
          acked[i] = v; // the update returned: committed and invalidated
          await new Promise((r) => setTimeout(r, Math.random() * 6));
        }
      };
      const reader = async (p: (typeof procs)[number], n: number) => {
        while (Date.now() < deadline) {
          const i = (n + reads) % rows.length;
          const floor = acked[i]!;
          const op = reads % 2 === 0 ? 'findUnique' : 'findFirst';
          const row =
            op === 'findUnique'
              ? await p.prisma.user.findUnique({ where: { id: rows[i]!.id }, cache: true })
              : await p.prisma.user.findFirst({ where: { id: rows[i]!.id }, cache: true });
          reads++;
          if (Number(row?.name) < floor) stale.push(`${op} row ${i}: got ${row?.name}, write ${floor} was acknowledged before the read`);
        }
      };
      await Promise.all([...rows.map((_, i) => writer(i)), ...procs.flatMap((p) => Array.from({ length: 6 }, (_, n) => reader(p, n)))]);
      const stats = procs.map((p) => p.prisma.$cache.stats());
      const total = (k: 'hits' | 'staleFillsRejected' | 'redisErrors') => stats.reduce((n, s) => n + s[k], 0);
      expect(stale).toEqual([]);
      expect(reads).toBeGreaterThan(300);
      expect(total('hits')).toBeGreaterThan(0);
      const timeouts = stats.reduce((n, s) => n + s.redisTimeouts, 0);
      expect(failures.length, failures.join('\n')).toBe(total('redisErrors'));
      expect(total('redisErrors') - timeouts, failures.join('\n')).toBe(0);
      console.info(`race run: ${reads} reads, ${total('hits')} hits, ${total('staleFillsRejected')} stale fills refused, 0 stale reads, ${timeouts} Redis timeouts`);
    } finally {
      await Promise.all(procs.map((p) => p.close()));
    }
  });
});
