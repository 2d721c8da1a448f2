import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import pg from 'pg';
import { Redis } from 'ioredis';
import { PrismaPg } from '@prisma/adapter-pg';
import { describe, expect, it, vi } from 'vitest';
import { PrismaClient as AuthClient } from '../src/generated/auth/client.ts';
import { createCacheExtension, type CacheExtensionOptions } from '../src/cache/index.ts';
import { LocalTier } from '../src/cache/local-tier.ts';
import { cacheTestDatabases, REDIS_URL } from './helpers/cache.ts';
import { freePort, OwnRedis } from './helpers/own-redis.ts';

const { fresh: freshDatabase } = cacheTestDatabases('cachelocal', ['auth']);

/** One cached auth client with a local tier; `sql` runs on the same database behind Prisma's back. */
function openClient(url: string, prefix: string, opts: Partial<CacheExtensionOptions> = {}) {
  const pool = new pg.Pool({ connectionString: url, max: 8 });
  pool.on('error', () => {});
  const base = new AuthClient({ adapter: new PrismaPg(pool, { schema: 'auth_service' }) });
  const errors: Error[] = [];
  const prisma = base.$extends(
    createCacheExtension({ service: 'auth', redisUrl: REDIS_URL, keyPrefix: prefix, timeoutMs: 1_000, local: { ttl: 30 }, onError: (e) => void errors.push(e), ...opts }),
  );
  return { prisma, pool, errors, close: async () => (await prisma.$cache.close(), await base.$disconnect(), await pool.end()) };
}

const user = (n: string) => ({ email: `${n}@example.com`, name: n, passwordHash: 'h' });
/** Reads until one is answered locally (the first reads fill Redis, then the tier; an invalidation message still on its way may refuse a copy). */
async function warm(c: ReturnType<typeof openClient>, read: () => Promise<unknown>): Promise<void> {
  const before = c.prisma.$cache.stats().localHits;
  for (let i = 0; i < 20; i++) {
    await read();
    if (c.prisma.$cache.stats().localHits > before) return;
  }
  throw new Error('no read was answered by the local tier');
}

const on = (c: ReturnType<typeof openClient>) => vi.waitFor(() => expect(c.prisma.$cache.stats().local).toBe('on'), { timeout: 5_000, interval: 10 });

describe('local tier (near cache kept in sync by Redis client tracking)', () => {
  it('answers repeated reads from memory; within a process no read after an acknowledged write is stale (two clients racing)', async () => {
    const { url, prefix } = await freshDatabase();
    const procs = [openClient(url, prefix), openClient(url, prefix)];
    try {
      await Promise.all(procs.map(on));
      const rows = await Promise.all([0, 1, 2].map((i) => procs[0]!.prisma.user.create({ data: { ...user(`l${i}`), name: '0' } })));
      const acked = rows.map(() => 0);
      const deadline = Date.now() + 3_000;
      let reads = 0;
      const stale: string[] = [];
      const writer = async (i: number) => {
        for (let v = 1; Date.now() < deadline; v++) {
          await procs[v % 2]!.prisma.user.update({ where: { id: rows[i]!.id }, data: { name: String(v) } });
          acked[i] = v;
          await new Promise((r) => setTimeout(r, 5 + Math.random() * 20));
        }
      };
      const reader = async (p: (typeof procs)[number], n: number) => {
        while (Date.now() < deadline) {
          const i = (n + reads) % rows.length;
          const floor = acked[i]!;
          const row = await p.prisma.user.findUnique({ where: { id: rows[i]!.id }, cache: { local: true } });
          reads++;
          if (Number(row?.name) < floor) stale.push(`row ${i}: got ${row?.name}, write ${floor} was acknowledged before the read`);
        }
      };
      await Promise.all([...rows.map((_, i) => writer(i)), ...procs.flatMap((p) => [0, 1, 2, 3].map((n) => reader(p, n)))]);
      const stats = procs.map((p) => p.prisma.$cache.stats());
      expect(stale).toEqual([]);
      expect(reads).toBeGreaterThan(1_000);
      // Most reads never left the process.
      expect(stats.reduce((n, s) => n + s.localHits, 0)).toBeGreaterThan(reads / 2);
      expect(stats.every((s) => s.redisErrors === 0)).toBe(true);

      // A copy is served no longer than the tier's ttl, even when nothing changed.
      const short = openClient(url, prefix, { local: { ttl: 0.2 } });
      try {
        await on(short);
        const where = { id: rows[0]!.id };
        await warm(short, () => short.prisma.user.findUnique({ where, cache: { local: true } }));
        const before = short.prisma.$cache.stats();
        await new Promise((r) => setTimeout(r, 300));
        await short.prisma.user.findUnique({ where, cache: { local: true } });
        expect(short.prisma.$cache.stats()).toMatchObject({ localHits: before.localHits, hits: before.hits + 1 });
        // Reads that do not ask for it never use the tier.
        await short.prisma.user.findUnique({ where, cache: true });
        await short.prisma.user.findUnique({ where, cache: true });
        expect(short.prisma.$cache.stats()).toMatchObject({ localHits: before.localHits, hits: before.hits + 3 });
      } finally {
        await short.close();
      }
    } finally {
      await Promise.all(procs.map((p) => p.close()));
    }
  });

  it('a write in another process reaches the tier with Redis\'s invalidation message: stale only until it arrives, never later', async () => {
    const { url, prefix } = await freshDatabase();
    const c = openClient(url, prefix);
    const N = 150;
    try {
      await on(c);
      const row = await c.prisma.user.create({ data: { ...user('x'), name: '0' } });
      const child = spawn(process.execPath, ['--import', 'tsx', 'test/helpers/cache-writer-child.ts', url, REDIS_URL, prefix, row.id, String(N), '15'], { stdio: ['ignore', 'pipe', 'inherit'] });
      const exited = new Promise<number | null>((r) => child.on('close', (code) => r(code)));
      /** When this process learned that write v was acknowledged (index v). */
      const ackedAt: number[] = [0];
      let ready = false;
      createInterface({ input: child.stdout }).on('line', (l) => {
        if (l === 'ready') ready = true;
        const m = /^acked (\d+)$/.exec(l);
        if (m) ackedAt[Number(m[1])] = performance.now();
      });
      await vi.waitFor(() => expect(ready).toBe(true), { timeout: 20_000, interval: 20 });
      let done = false;
      void exited.then(() => (done = true));
      let reads = 0;
      let staleReads = 0;
      let worstMs = 0;
      const reader = async () => {
        while (!done) {
          const start = performance.now();
          const floor = ackedAt.length - 1;
          const got = Number((await c.prisma.user.findUnique({ where: { id: row.id }, cache: { local: true } }))?.name);
          reads++;
          if (got < floor) {
            staleReads++;
            // How long before this read started had this process known of the first write it missed.
            worstMs = Math.max(worstMs, start - (ackedAt[got + 1] as number));
          }
          await new Promise((r) => setImmediate(r));
        }
      };
      await Promise.all([reader(), reader(), reader()]);
      expect(await exited).toBe(0);
      expect(ackedAt.length - 1).toBe(N);
      const s = c.prisma.$cache.stats();
      console.info(`local tier vs a writer process: ${reads} reads, ${s.localHits} local hits, ${staleReads} stale (worst ${worstMs.toFixed(2)} ms after the ack was known here)`);
      expect(s.localHits).toBeGreaterThan(reads / 4);
      // The window is the delivery of one message, not the ttl (30 s here).
      expect(worstMs).toBeLessThan(250);
      await vi.waitFor(async () => expect((await c.prisma.user.findUnique({ where: { id: row.id }, cache: { local: true } }))?.name).toBe(String(N)), { timeout: 250, interval: 5 });
    } finally {
      await c.close();
    }
  });

  it('tracking connection killed: copies dropped, a change made meanwhile is not missed, the tier comes back', async () => {
    const { url, prefix } = await freshDatabase();
    const c = openClient(url, prefix);
    const admin = new Redis(REDIS_URL);
    try {
      await on(c);
      const row = await c.prisma.user.create({ data: user('k') });
      const read = () => c.prisma.user.findUnique({ where: { id: row.id }, cache: { local: true } });
      await warm(c, read);
      expect(c.prisma.$cache.stats()).toMatchObject({ localHits: 1, localEntries: 1 });
      const list = String(await admin.call('CLIENT', 'LIST', 'TYPE', 'pubsub'));
      const ids = list.split('\n').filter((l) => l.includes(` name=vh-cache-local:${prefix}auth `)).map((l) => /^id=(\d+)/.exec(l)?.[1]);
      expect(ids).toHaveLength(1);
      // Killed, and the row changed by "another process" before this one could be told.
      await admin.call('CLIENT', 'KILL', 'ID', ids[0] as string);
      await c.pool.query(`UPDATE auth_service.users SET name = 'changed' WHERE id = $1`, [row.id]);
      await c.prisma.$cache.invalidateModels(['User']);
      expect((await read())?.name).toBe('changed');
      await on(c);
      expect((await read())?.name).toBe('changed');
      expect((await read())?.name).toBe('changed');
      expect(c.prisma.$cache.stats().localHits).toBeGreaterThan(1);
    } finally {
      admin.disconnect();
      await c.close();
    }
  });

  it('Redis paused (connection open, no answers): the heartbeat turns the tier off, reads still succeed; it comes back with Redis', async () => {
    const { url, prefix } = await freshDatabase();
    const redis = new OwnRedis(await freePort());
    await redis.start();
    const c = openClient(url, prefix, { redisUrl: redis.url, timeoutMs: 50, circuit: { failureThreshold: 3, openMs: 200 }, local: { ttl: 30, heartbeatMs: 100 } });
    try {
      await on(c);
      const row = await c.prisma.user.create({ data: user('p') });
      const read = () => c.prisma.user.findUnique({ where: { id: row.id }, cache: { local: true } });
      await warm(c, read);
      expect(c.prisma.$cache.stats().localHits).toBe(1);
      redis.signal('SIGSTOP');
      try {
        await vi.waitFor(() => expect(c.prisma.$cache.stats()).toMatchObject({ local: 'connecting', localEntries: 0 }), { timeout: 2_000, interval: 10 });
        await c.pool.query(`UPDATE auth_service.users SET name = 'while paused' WHERE id = $1`, [row.id]);
        for (let i = 0; i < 5; i++) expect((await read())?.name).toBe('while paused');
        expect(c.prisma.$cache.stats().localHits).toBe(1);
      } finally {
        redis.signal('SIGCONT');
      }
      await on(c);
      expect(await read()).toMatchObject({ id: row.id });
    } finally {
      await c.close();
      await redis.kill().catch(() => {});
    }
  });

  it('checks its options, and is off (and says so) unless configured', async () => {
    const { url, prefix } = await freshDatabase();
    expect(() => createCacheExtension({ service: 'auth', redisUrl: REDIS_URL, local: { ttl: 0, maxEntries: 0 } })).toThrow(/local\.maxEntries must be a number >= 1[\s\S]*local\.ttl must be a number >= 0\.001/);
    expect(() => createCacheExtension({ service: 'auth', redis: new Redis({ lazyConnect: true }), local: true })).toThrow(/local needs redisUrl/);
    expect(() => createCacheExtension({ service: 't', redisUrl: REDIS_URL })).toThrow(/service "t" collides with the cache's own key names/);
    const c = openClient(url, prefix, { local: false });
    try {
      const row = await c.prisma.user.create({ data: user('o') });
      await expect(c.prisma.user.findUnique({ where: { id: row.id }, cache: { local: 'yes' as unknown as boolean } })).rejects.toThrow(/User\.findUnique: cache\.local must be true or false/);
      await c.prisma.user.findUnique({ where: { id: row.id }, cache: { local: true } });
      await c.prisma.user.findUnique({ where: { id: row.id }, cache: { local: true } });
      expect(c.prisma.$cache.stats()).toMatchObject({ local: 'off', localHits: 0, hits: 1 });
    } finally {
      await c.close();
    }
    // A Redis that refuses CLIENT TRACKING (an ACL here; Redis < 6 or a managed service alike): the
    // tier says so once and stays off, the Redis tier works, no password in the message.
    const admin = new Redis(REDIS_URL);
    const name = `vh_notrack_${process.pid}`;
    await admin.call('ACL', 'SETUSER', name, 'on', '>s3cret-pw', '~*', '&*', '+@all', '-client');
    const refused = openClient(url, prefix, { redisUrl: REDIS_URL.replace('redis://', `redis://${name}:s3cret-pw@`) });
    try {
      await vi.waitFor(() => expect(refused.prisma.$cache.stats().local).toBe('closed'), { timeout: 5_000, interval: 10 });
      expect(refused.errors.map((e) => e.message)).toEqual([expect.stringMatching(/^cache local tier: Redis refused client tracking \(NOPERM.*\); the local tier is off$/)]);
      expect(refused.errors.join(' ')).not.toContain('s3cret-pw');
      const row = await refused.prisma.user.create({ data: user('nt') });
      for (let i = 0; i < 3; i++) await refused.prisma.user.findUnique({ where: { id: row.id }, cache: { local: true } });
      expect(refused.prisma.$cache.stats()).toMatchObject({ localHits: 0, hits: 2, redisErrors: 0 });
    } finally {
      await refused.close();
      await admin.call('ACL', 'DELUSER', name);
      admin.disconnect();
    }
  });

  describe('LocalTier on its own', () => {
    const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
    const openTier = async (url: string, prefix: string, heartbeatMs = 1_000) => {
      const tier = new LocalTier({ url, prefixes: [`${prefix}g:`], maxEntries: 10, ttlMs: 60_000, heartbeatMs, connectionName: `vh-test-tier:${prefix}` });
      await vi.waitFor(() => expect(tier.state).toBe('on'), { timeout: 5_000, interval: 5 });
      return tier;
    };

    it('a change of one of its keys between the lookup and the store keeps the copy out; a change of another key does not', async () => {
      const prefix = `test:tier:${process.pid}:${Date.now()}:`;
      const tier = await openTier(REDIS_URL, prefix);
      const other = new Redis(REDIS_URL);
      const keys = [`${prefix}g:A`, `${prefix}g:B`];
      try {
        const fresh = () => Date.now() + 60_000;
        let stamp = tier.stamp(keys);
        await other.set(`${prefix}g:C`, '1'); // not a key of this read
        await sleep(50);
        tier.put('e1', keys, 'one', fresh(), stamp);
        expect(tier.get('e1', keys)).toBe('one');

        stamp = tier.stamp(keys);
        await other.set(`${prefix}g:B`, '1'); // the lookup "saw" the old value; the message arrives before the store
        await sleep(50);
        tier.put('e2', keys, 'two', fresh(), stamp);
        expect(tier.get('e2', keys)).toBeUndefined();
        expect(tier.get('e1', keys)).toBeUndefined(); // and the older copy went with the change
        // A stamp from before a clear (reconnect, flush) is refused too.
        stamp = tier.stamp(keys);
        tier.put('e3', keys, 'three', fresh(), stamp);
        expect(tier.get('e3', keys)).toBe('three');
      } finally {
        await other.del(`${prefix}g:A`, `${prefix}g:B`, `${prefix}g:C`);
        other.disconnect();
        await tier.close();
      }
    });

    it('serves nothing while its heartbeat is overdue (a stalled event loop may hide an unread invalidation), and again once Redis answered', async () => {
      const prefix = `test:tier:${process.pid}:${Date.now()}:`;
      const tier = await openTier(REDIS_URL, prefix, 100);
      const keys = [`${prefix}g:A`];
      try {
        tier.put('e', keys, 'v', Date.now() + 60_000, tier.stamp(keys));
        expect(tier.get('e', keys)).toBe('v');
        const until = performance.now() + 200;
        while (performance.now() < until) {
          // the event loop is blocked: no message or ping answer can be read
        }
        expect(tier.get('e', keys)).toBeUndefined();
        await vi.waitFor(() => expect(tier.get('e', keys)).toBe('v'), { timeout: 1_000, interval: 10 });
      } finally {
        await tier.close();
      }
    });

    it('a FLUSHDB (null invalidation message) drops every copy', async () => {
      const redis = new OwnRedis(await freePort());
      await redis.start();
      const tier = await openTier(redis.url, 'f:');
      const admin = new Redis(redis.url);
      try {
        tier.put('e', ['f:g:A'], 'v', Date.now() + 60_000, tier.stamp(['f:g:A']));
        expect(tier.size).toBe(1);
        await admin.call('FLUSHDB');
        await vi.waitFor(() => expect(tier.size).toBe(0), { timeout: 1_000, interval: 5 });
        expect(tier.get('e', ['f:g:A'])).toBeUndefined();
      } finally {
        admin.disconnect();
        await tier.close();
        await redis.kill().catch(() => {});
      }
    });
  });
});
