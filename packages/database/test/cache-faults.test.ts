import pg from 'pg';
import { PrismaPg } from '@prisma/adapter-pg';
import { describe, expect, it, vi } from 'vitest';
import { PrismaClient as AuthClient } from '../src/generated/auth/client.ts';
import { createCacheExtension, type CacheExtensionOptions } from '../src/cache/index.ts';
import { cacheTestDatabases } from './helpers/cache.ts';
import { freePort, OwnRedis } from './helpers/own-redis.ts';

const { fresh: freshDatabase } = cacheTestDatabases('cachefault', ['auth']);

function openClient(url: string, prefix: string, opts: Partial<CacheExtensionOptions>) {
  const pool = new pg.Pool({ connectionString: url, max: 10 });
  pool.on('error', () => {});
  const base = new AuthClient({ adapter: new PrismaPg(pool, { schema: 'auth_service' }) });
  const prisma = base.$extends(
    createCacheExtension({ service: 'auth', keyPrefix: prefix, timeoutMs: 50, circuit: { failureThreshold: 3, openMs: 200 }, ...opts }),
  );
  return { prisma, close: async () => (await prisma.$cache.close(), await base.$disconnect(), await pool.end()) };
}

const user = (n: string) => ({ email: `${n}@example.com`, name: n, passwordHash: 'h' });

/** Readers and writers for `ms`; returns how many requests ran and every error any of them threw. */
async function load(c: ReturnType<typeof openClient>, ids: string[], ms: number) {
  const deadline = Date.now() + ms;
  const errors: unknown[] = [];
  let requests = 0;
  let slowest = 0;
  const worker = async (w: number) => {
    for (let i = 0; Date.now() < deadline; i++) {
      const id = ids[(w + i) % ids.length]!;
      const t0 = performance.now();
      try {
        if (i % 10 === 9) await c.prisma.user.update({ where: { id }, data: { name: `w${w}-${i}` } });
        else if (i % 2 === 0) await c.prisma.user.findUnique({ where: { id }, cache: true });
        else await c.prisma.user.findMany({ where: { id }, cache: true });
      } catch (e) {
        errors.push(e);
      }
      slowest = Math.max(slowest, performance.now() - t0);
      requests++;
    }
  };
  await Promise.all(Array.from({ length: 8 }, (_, w) => worker(w)));
  return { requests, errors, slowest };
}

describe('fail-open', () => {
  it('Redis on a closed port: every read and write succeeds, errors are counted, the circuit opens', async () => {
    const { url, prefix } = await freshDatabase();
    const c = openClient(url, prefix, { redisUrl: `redis://127.0.0.1:${await freePort()}` });
    try {
      const ids = (await Promise.all([0, 1, 2].map((i) => c.prisma.user.create({ data: user(`dead${i}`) })))).map((u) => u.id);
      const run = await load(c, ids, 1_500);
      expect(run.errors).toEqual([]);
      expect(run.requests).toBeGreaterThan(20);
      const s = c.prisma.$cache.stats();
      expect(s.redisErrors).toBeGreaterThan(0);
      expect(s.circuitOpens).toBeGreaterThan(0);
      expect(s.bypassed).toBeGreaterThan(0);
      expect(s.hits).toBe(0);
      expect(s.pendingInvalidations).toBeGreaterThan(0); // remembered for when Redis comes back
      expect(await c.prisma.$cache.health()).toMatchObject({ enabled: true, status: 'down' });
    } finally {
      await c.close();
    }
  });

  it('Redis killed in the middle of a load run and restarted: nothing fails, the circuit opens and closes again', async () => {
    const { url, prefix } = await freshDatabase();
    const redis = new OwnRedis(await freePort());
    await redis.start();
    // 200 ms: the outage must open the circuit, a busy test machine must not.
    const c = openClient(url, prefix, { redisUrl: redis.url, timeoutMs: 200 });
    try {
      const ids = (await Promise.all([0, 1, 2, 3].map((i) => c.prisma.user.create({ data: user(`k${i}`) })))).map((u) => u.id);
      const running = load(c, ids, 3_000);
      await new Promise((r) => setTimeout(r, 700));
      const hitsBefore = c.prisma.$cache.stats().hits;
      expect(hitsBefore).toBeGreaterThan(0);
      await redis.kill();
      await new Promise((r) => setTimeout(r, 800));
      expect(c.prisma.$cache.stats().circuit).not.toBe('closed');
      await redis.start();
      const run = await running;
      expect(run.errors).toEqual([]);
      await vi.waitFor(() => expect(c.prisma.$cache.stats().circuit).toBe('closed'), { timeout: 10_000, interval: 50 });
      const after = await load(c, ids, 500);
      expect(after.errors).toEqual([]);
      const s = c.prisma.$cache.stats();
      expect(s.circuitOpens).toBeGreaterThan(0);
      expect(s.hits).toBeGreaterThan(hitsBefore); // serving from the cache again
      expect(await c.prisma.$cache.health()).toMatchObject({ status: 'ok', circuit: 'closed', pendingInvalidations: 0 });
    } finally {
      await c.close();
      await redis.kill().catch(() => {});
    }
  });

  it('Redis paused (slow): requests take at most about the timeout; writes made meanwhile are replayed before cached reads resume', async () => {
    const { url, prefix } = await freshDatabase();
    const redis = new OwnRedis(await freePort());
    await redis.start();
    const writer = openClient(url, prefix, { redisUrl: redis.url });
    const other = openClient(url, prefix, { redisUrl: redis.url });
    try {
      const u = await writer.prisma.user.create({ data: user('slow') });
      for (const c of [writer, other]) {
        await c.prisma.user.findUnique({ where: { id: u.id }, cache: true });
        await vi.waitFor(() => expect(c.prisma.$cache.stats().inFlight).toBe(0));
      }
      redis.signal('SIGSTOP');
      try {
        const t0 = performance.now();
        await writer.prisma.user.update({ where: { id: u.id }, data: { name: 'written while paused' } });
        expect((await writer.prisma.user.findUnique({ where: { id: u.id }, cache: true }))?.name).toBe('written while paused');
        expect(performance.now() - t0).toBeLessThan(1_000);
        expect(writer.prisma.$cache.stats()).toMatchObject({ pendingInvalidations: expect.any(Number) });
        expect(writer.prisma.$cache.stats().pendingInvalidations).toBeGreaterThan(0);
        expect(writer.prisma.$cache.stats().redisTimeouts).toBeGreaterThan(0);
      } finally {
        redis.signal('SIGCONT');
      }
      // The old entry is still in Redis. The writer delivers what it owes before it reads cached
      // data again (here via its background retry), and every process then sees the new row.
      await vi.waitFor(() => expect(writer.prisma.$cache.stats().pendingInvalidations).toBe(0), { timeout: 5_000, interval: 20 });
      expect(writer.prisma.$cache.stats().invalidationsReplayed).toBeGreaterThan(0);
      expect((await other.prisma.user.findUnique({ where: { id: u.id }, cache: true }))?.name).toBe('written while paused');
      expect((await writer.prisma.user.findUnique({ where: { id: u.id }, cache: true }))?.name).toBe('written while paused');
    } finally {
      redis.signal('SIGCONT');
      await writer.close();
      await other.close();
      await redis.kill().catch(() => {});
    }
  });
});
