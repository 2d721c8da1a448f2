/**
 * npm run bench:cache — findUnique by id over a Zipf-distributed key set: through the cache,
 * without it, and a raw ioredis GET + JSON.parse of the same row; then 1,000 concurrent misses on
 * one key. All figures come from this one run, on this machine, and are printed as measured.
 *
 *   npx tsx bench/cache.bench.ts [--rows 10000] [--zipf 1.1] [--ops 4000] [--concurrency 16]
 *
 * Needs the PostgreSQL of the tests (TEST_ADMIN_DATABASE_URL, default postgres@127.0.0.1:5432)
 * and a Redis (REDIS_URL, default redis://127.0.0.1:6379); it uses its own database and key prefix
 * and removes both.
 */
import { parseArgs } from 'node:util';
import pg from 'pg';
import { Redis } from 'ioredis';
import { PrismaPg } from '@prisma/adapter-pg';
import { PrismaClient } from '../src/generated/auth/client.ts';
import { createCacheExtension } from '../src/cache/index.ts';
import { loadServiceConfig } from '../src/config/database-config.ts';
import { migrateService } from '../src/migrate/migrate-service.ts';
import { dropRedisKeys } from '../test/helpers/redis-keys.ts';
import { adminQuery, urlFor } from '../test/helpers/pg.ts';

const { values: args } = parseArgs({
  options: {
    rows: { type: 'string', default: '10000' },
    zipf: { type: 'string', default: '1.1' },
    ops: { type: 'string', default: '4000' },
    concurrency: { type: 'string', default: '16' },
  },
});
const ROWS = Number(args.rows);
const OPS = Number(args.ops);
const CONCURRENCY = Number(args.concurrency);
const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const dbName = `vh_bench_cache_${process.pid}`;
const prefix = `bench:cache:${process.pid}:`;
const log = (line: string) => console.log(line);

/** Ranks 0..n-1 drawn with P(k) ∝ 1/(k+1)^s, by binary search over the cumulative weights. */
function zipfSampler(n: number, s: number, seed = 42): () => number {
  const cdf = new Float64Array(n);
  let sum = 0;
  for (let k = 0; k < n; k++) cdf[k] = sum += 1 / (k + 1) ** s;
  let state = seed;
  const random = () => ((state = (Math.imul(state, 1_664_525) + 1_013_904_223) >>> 0) / 2 ** 32) * sum;
  return () => {
    const x = random();
    let lo = 0;
    let hi = n - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (cdf[mid]! < x) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  };
}

interface Run {
  readonly p50: number;
  readonly p99: number;
  readonly opsPerSec: number;
}

type Op = (rank: number) => Promise<unknown>;
const ROUNDS = 8;

/**
 * Runs every variant in turns (ROUNDS rounds, each variant OPS/ROUNDS calls per round), so a busy
 * moment on a shared machine hits all of them alike. Latency: one sequential caller (µs).
 * Throughput: `CONCURRENCY` callers sharing the round's key sequence.
 */
async function measureInTurns(variants: Record<string, Op>, sample: () => number): Promise<Record<string, Run>> {
  const names = Object.keys(variants);
  const lat = new Map(names.map((n) => [n, [] as number[]]));
  const busy = new Map(names.map((n) => [n, 0]));
  const perRound = Math.ceil(OPS / ROUNDS);
  for (let r = 0; r < ROUNDS; r++) {
    const seq = Array.from({ length: perRound }, sample);
    for (const name of names) {
      const op = variants[name]!;
      for (const k of seq) {
        const t0 = performance.now();
        await op(k);
        lat.get(name)!.push((performance.now() - t0) * 1000);
      }
      let next = 0;
      const t0 = performance.now();
      await Promise.all(
        Array.from({ length: CONCURRENCY }, async () => {
          while (next < seq.length) await op(seq[next++]!);
        }),
      );
      busy.set(name, busy.get(name)! + (performance.now() - t0) / 1000);
    }
  }
  const out: Record<string, Run> = {};
  for (const name of names) {
    const l = lat.get(name)!.sort((a, b) => a - b);
    out[name] = { p50: l[Math.floor(l.length * 0.5)]!, p99: l[Math.floor(l.length * 0.99)]!, opsPerSec: (perRound * ROUNDS) / busy.get(name)! };
  }
  return out;
}

const fmt = (r: Run) => `p50 ${r.p50.toFixed(0).padStart(5)} µs   p99 ${r.p99.toFixed(0).padStart(6)} µs   ${r.opsPerSec.toFixed(0).padStart(6)} ops/s`;
const verdict = (ok: boolean) => (ok ? 'met' : 'NOT met');

async function main(): Promise<void> {
  await adminQuery(`DROP DATABASE IF EXISTS "${dbName}" WITH (FORCE)`);
  await adminQuery(`CREATE DATABASE "${dbName}"`);
  const url = urlFor(dbName);
  await migrateService(loadServiceConfig('auth', { DATABASE_URL: url }));
  const pool = new pg.Pool({ connectionString: url, max: 10 });
  const redis = new Redis(REDIS_URL);
  const base = new PrismaClient({ adapter: new PrismaPg(pool, { schema: 'auth_service' }), log: [{ emit: 'event', level: 'query' }] });
  let dbQueries = 0;
  base.$on('query', () => dbQueries++);
  const cacheExt = createCacheExtension({ service: 'auth', redisUrl: REDIS_URL, keyPrefix: prefix, defaults: { ttl: 600 } });
  const cached = base.$extends(cacheExt);
  // The same cache on a client with errorFormat 'minimal' (no call-site stack capture per query):
  // a client setting, shown because it is the largest single cost under a cache hit.
  const minimalBase = new PrismaClient({ adapter: new PrismaPg(pool, { schema: 'auth_service' }), errorFormat: 'minimal' });
  const cachedMinimal = minimalBase.$extends(createCacheExtension({ service: 'auth', redisUrl: REDIS_URL, keyPrefix: prefix, defaults: { ttl: 600 } }));
  // The same cache with the local tier (reads with `local: true` answered from process memory
  // while Redis client tracking reports no change; see src/cache/README.md for its guarantee).
  const localBase = new PrismaClient({ adapter: new PrismaPg(pool, { schema: 'auth_service' }) });
  const cachedLocal = localBase.$extends(createCacheExtension({ service: 'auth', redisUrl: REDIS_URL, keyPrefix: prefix, defaults: { ttl: 600 }, local: { ttl: 600, maxEntries: ROWS } }));
  try {
    const ids: string[] = [];
    for (let i = 0; i < ROWS; i += 1000) {
      const data = Array.from({ length: Math.min(1000, ROWS - i) }, (_, j) => ({
        email: `u${i + j}@bench.example`,
        name: `User ${i + j}`,
        passwordHash: 'x'.repeat(60),
        roles: ['OPERATOR' as const],
        lastLogin: new Date(),
      }));
      ids.push(...(await base.user.createManyAndReturn({ data, select: { id: true } })).map((r) => r.id));
    }
    // The raw baseline stores the same row as plain JSON, as a hand-written cache would.
    for (let i = 0; i < ids.length; i += 500) {
      const rows = await base.user.findMany({ where: { id: { in: ids.slice(i, i + 500) } } });
      await redis.mset(...rows.flatMap((r) => [`${prefix}raw:${r.id}`, JSON.stringify(r)]));
    }
    const sample = zipfSampler(ROWS, Number(args.zipf));
    log(`cache bench: ${ROWS} users, Zipf s=${args.zipf}, ${OPS} ops per variant in ${ROUNDS} interleaved rounds, latency from 1 caller, throughput from ${CONCURRENCY}; Prisma errorFormat default`);

    const uncachedOp = (k: number) => base.user.findUnique({ where: { id: ids[k]! } });
    const cachedOp = (k: number) => cached.user.findUnique({ where: { id: ids[k]! }, cache: true });
    const cachedMinimalOp = (k: number) => cachedMinimal.user.findUnique({ where: { id: ids[k]! }, cache: true });
    const localOp = (k: number) => cachedLocal.user.findUnique({ where: { id: ids[k]! }, cache: { local: true } });
    const rawOp = async (k: number) => JSON.parse((await redis.get(`${prefix}raw:${ids[k]}`))!) as unknown;

    // What Prisma Client itself adds to any answer served from a query extension: an extension
    // doing nothing but the raw GET + parse. Not a target; printed to show where the time goes.
    const rawById = async (id: string) => JSON.parse((await redis.get(`${prefix}raw:${id}`))!) as never;
    const floorClient = base.$extends({ query: { user: { findUnique: ({ args }) => rawById(String(args.where.id)) } } });
    const floorOp = (k: number) => floorClient.user.findUnique({ where: { id: ids[k]! } });

    // Warm-up: JIT for every path; and, as in a long-running service, every row read once (the
    // Zipf tail would otherwise keep missing for a long while), then a Zipf run.
    for (let k = 0; k < ROWS; k += 50) await Promise.all(ids.slice(k, k + 50).map((_, j) => cachedOp(k + j)));
    while (cachedLocal.$cache.stats().local !== 'on') await new Promise((r) => setTimeout(r, 10));
    for (let i = 0; i < 2000; i++) await Promise.all([uncachedOp(sample()), rawOp(sample()), floorOp(sample()), cachedOp(sample()), cachedMinimalOp(sample()), localOp(sample())]);
    await new Promise((r) => setTimeout(r, 200));

    const before = cached.$cache.stats();
    const localBefore = cachedLocal.$cache.stats();
    const runs = await measureInTurns({ cached: cachedOp, cachedMinimal: cachedMinimalOp, local: localOp, uncached: uncachedOp, raw: rawOp, floor: floorOp }, sample);
    const after = cached.$cache.stats();
    const localAfter = cachedLocal.$cache.stats();
    const localReads = localAfter.hits + localAfter.misses + localAfter.staleServed - (localBefore.hits + localBefore.misses + localBefore.staleServed);
    const localHitRatio = (localAfter.hits - localBefore.hits) / localReads;
    const localShare = (localAfter.localHits - localBefore.localHits) / localReads;
    const reads = after.hits + after.misses + after.staleServed - (before.hits + before.misses + before.staleServed);
    const hitRatio = (after.hits - before.hits) / reads;
    const cachedDbReads = after.loads - before.loads;
    const cachedRun = runs.cached!;
    const uncachedRun = runs.uncached!;
    const rawRun = runs.raw!;
    const floorRun = runs.floor!;
    const minimalRun = runs.cachedMinimal!;
    const localRun = runs.local!;

    log(`uncached findUnique      ${fmt(uncachedRun)}`);
    log(`cached findUnique        ${fmt(cachedRun)}   hit ratio ${(hitRatio * 100).toFixed(1)}% (${cachedDbReads} DB reads in ${reads} cached calls)`);
    log(`cached, errorFormat min  ${fmt(minimalRun)}   (${(minimalRun.p50 / rawRun.p50).toFixed(2)}x raw GET, ${(uncachedRun.p50 / minimalRun.p50).toFixed(2)}x faster than uncached)`);
    log(`cached, local tier       ${fmt(localRun)}   hit ratio ${(localHitRatio * 100).toFixed(1)}%, ${(localShare * 100).toFixed(1)}% answered from process memory`);
    log(`raw ioredis GET + parse  ${fmt(rawRun)}`);
    log(`Prisma ext doing raw GET ${fmt(floorRun)}   (floor for any query-extension cache)`);
    const speedup = uncachedRun.p50 / cachedRun.p50;
    const overRaw = cachedRun.p50 / rawRun.p50;
    log(`ratio uncached/cached p50 ${speedup.toFixed(2)}x (target >= 5x: ${verdict(speedup >= 5)})`);
    // A cache that asks Redis on every read (as one must, to never serve a value a finished write
    // invalidated) cannot beat one Redis round trip: uncached/raw bounds what the first ratio can be here.
    log(`bound uncached/raw GET p50 ${(uncachedRun.p50 / rawRun.p50).toFixed(2)}x (the best uncached/cached any one-round-trip-per-read cache can reach on this machine)`);
    log(`ratio cached/raw GET p50  ${overRaw.toFixed(2)}x (target <= 1.3x: ${verdict(overRaw <= 1.3)})`);
    log(`hit ratio after warm-up   ${(hitRatio * 100).toFixed(1)}% (target >= 95%: ${verdict(hitRatio >= 0.95)})`);
    const localSpeedup = uncachedRun.p50 / localRun.p50;
    const localOverRaw = localRun.p50 / rawRun.p50;
    log(`local tier: ratio uncached/cached p50 ${localSpeedup.toFixed(2)}x (target >= 5x: ${verdict(localSpeedup >= 5)}); cached/raw GET p50 ${localOverRaw.toFixed(2)}x (target <= 1.3x: ${verdict(localOverRaw <= 1.3)}); hit ratio ${(localHitRatio * 100).toFixed(1)}% (target >= 95%: ${verdict(localHitRatio >= 0.95)})`);

    // Stampede: 1,000 concurrent misses on one key that is not in the cache.
    const cold = ids[ROWS - 1]!;
    const q0 = dbQueries;
    const results = await Promise.all(Array.from({ length: 1000 }, () => cached.user.findFirst({ where: { id: cold }, cache: true })));
    const stampedeReads = dbQueries - q0;
    const allAnswered = results.every((r) => r?.id === cold);
    log(`1,000 concurrent misses on one key: ${stampedeReads} DB quer${stampedeReads === 1 ? 'y' : 'ies'}, all answered: ${allAnswered} (target 1: ${verdict(stampedeReads === 1 && allAnswered)})`);
    const s = cached.$cache.stats();
    log(`cache stats: hits ${s.hits}, misses ${s.misses}, coalesced ${s.coalescedWaits}, redis errors ${s.redisErrors}, circuit ${s.circuit}`);
  } finally {
    await cached.$cache.close();
    await cachedMinimal.$cache.close();
    await cachedLocal.$cache.close();
    await localBase.$disconnect();
    await minimalBase.$disconnect();
    await base.$disconnect();
    await pool.end();
    await dropRedisKeys(redis, [prefix]);
    await redis.quit();
    await adminQuery(`DROP DATABASE IF EXISTS "${dbName}" WITH (FORCE)`);
  }
}

main().catch((e: unknown) => {
  console.error(e);
  process.exitCode = 1;
});
