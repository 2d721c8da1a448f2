import { createHash } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { CacheLookup, CacheStore, FillRequest, LeaseRequest, LeaseResult } from './cache-store.ts';

// A fresh generation value: the store-wide sequence plus the server clock, so a value is not
// reused even if the sequence key is lost (eviction, FLUSHALL) and starts again from 1.
const FRESH = `local function fresh(seq, t) return redis.call('INCR', seq) .. '@' .. t[1] .. '.' .. t[2] end`;

/** KEYS: seq, lease, gen... ARGV: token, leaseMs, genTtlMs → {acquired, gen...} */
const LEASE = `${FRESH}
local t = nil
local out = {0}
for i = 3, #KEYS do
  local v = redis.call('GET', KEYS[i])
  if not v then
    t = t or redis.call('TIME')
    v = fresh(KEYS[1], t)
    redis.call('SET', KEYS[i], v, 'PX', ARGV[3])
  end
  out[#out + 1] = v
end
if ARGV[2] ~= '0' and redis.call('SET', KEYS[2], ARGV[1], 'NX', 'PX', ARGV[2]) then out[1] = 1 end
return out`;

/** KEYS: entry, lease, gen... ARGV: value, ttlMs, token, expected gen... → 1 stored / 0 refused */
const FILL = `
local stored = 1
for i = 3, #KEYS do
  if redis.call('GET', KEYS[i]) ~= ARGV[i + 1] then stored = 0 break end
end
if stored == 1 then redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2]) end
if ARGV[3] ~= '' and redis.call('GET', KEYS[2]) == ARGV[3] then redis.call('DEL', KEYS[2]) end
return stored`;

/** KEYS: seq, gen... ARGV: genTtlMs */
const BUMP = `${FRESH}
local t = redis.call('TIME')
for i = 2, #KEYS do redis.call('SET', KEYS[i], fresh(KEYS[1], t), 'PX', ARGV[1]) end
return #KEYS - 1`;

function toLookup(values: (string | null)[]): CacheLookup {
  return { entry: values[0] ?? null, gens: values.slice(1) };
}

interface Script {
  readonly body: string;
  readonly sha: string;
}
const script = (body: string): Script => ({ body, sha: createHash('sha1').update(body).digest('hex') });
const SCRIPTS = { lease: script(LEASE), fill: script(FILL), bump: script(BUMP) } as const;

/** The ioredis calls the store uses; an ioredis `Redis` satisfies it. */
export type RedisLike = Pick<Redis, 'mget' | 'evalsha' | 'eval' | 'ping'>;

/**
 * `CacheStore` on one Redis (or a primary): MGET for lookups, Lua scripts for the lease, the
 * checked fill and the bump, so each is atomic. Not for Redis Cluster: a script touches keys of
 * several models and tags, which Cluster would need in one slot. The client is injected and never
 * closed here; timeouts and error handling belong to the caller (`FailOpenStore`).
 */
export class RedisCacheStore implements CacheStore {
  readonly #redis: RedisLike;

  constructor(redis: RedisLike) {
    this.#redis = redis;
  }

  lookup(entryKey: string, genKeys: readonly string[]): Promise<CacheLookup> {
    return this.#redis.mget([entryKey, ...genKeys]).then(toLookup);
  }

  async lease(req: LeaseRequest): Promise<LeaseResult> {
    const keys = [req.seqKey, req.leaseKey, ...req.genKeys];
    const out = (await this.#run(SCRIPTS.lease, keys, [req.token, String(req.leaseMs), String(req.genTtlMs)])) as [number, ...string[]];
    return { acquired: out[0] === 1, gens: out.slice(1) as string[] };
  }

  async fill(req: FillRequest): Promise<boolean> {
    const keys = [req.entryKey, req.leaseKey, ...req.genKeys];
    const out = await this.#run(SCRIPTS.fill, keys, [req.value, String(req.ttlMs), req.token, ...req.expectedGens]);
    return out === 1;
  }

  async bump(seqKey: string, genKeys: readonly string[], genTtlMs: number): Promise<void> {
    if (genKeys.length === 0) return;
    await this.#run(SCRIPTS.bump, [seqKey, ...genKeys], [String(genTtlMs)]);
  }

  async ping(): Promise<void> {
    // Right after start the connection may still be opening (and, without an offline queue, a
    // command would fail at once): wait for it, bounded by the caller's timeout like any call.
    const r = this.#redis as Partial<Pick<Redis, 'status' | 'once' | 'off'>>;
    if (r.status === 'connecting' || r.status === 'connect' || r.status === 'reconnecting') {
      await new Promise<void>((resolve) => {
        const ready = () => resolve();
        r.once?.('ready', ready);
        setTimeout(() => {
          r.off?.('ready', ready);
          resolve();
        }, 1_000).unref();
      });
    }
    await this.#redis.ping();
  }

  /** EVALSHA, falling back to EVAL once when Redis has not seen the script (e.g. after a restart). */
  async #run(s: Script, keys: readonly string[], args: readonly string[]): Promise<unknown> {
    try {
      return await this.#redis.evalsha(s.sha, keys.length, ...keys, ...args);
    } catch (e) {
      if (!(e instanceof Error) || !e.message.startsWith('NOSCRIPT')) throw e;
      return await this.#redis.eval(s.body, keys.length, ...keys, ...args);
    }
  }
}
