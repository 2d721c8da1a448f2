'use strict';
// The hand-rolled response cache the services used: JSON under a key, a TTL, and invalidation by
// KEYS pattern (O(number of keys) on the Redis server, blocking it; every service must know which
// other services' keys embed its data).
const { Redis } = require('ioredis');

const PREFIX = process.env.CACHE_PREFIX ?? 'vendhub:';
const redis = new Redis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379');

/** The cached value of `key`, else `load()`'s, stored for `ttl` seconds. */
async function cached(key, ttl, load) {
  const hit = await redis.get(PREFIX + key);
  if (hit !== null) return JSON.parse(hit);
  const value = await load();
  if (value !== null) await redis.set(PREFIX + key, JSON.stringify(value), 'EX', ttl);
  return value;
}

/** Deletes every key matching each pattern (`machines:*`). */
async function invalidate(...patterns) {
  for (const pattern of patterns) {
    const keys = await redis.keys(PREFIX + pattern);
    if (keys.length > 0) await redis.del(...keys);
  }
}

async function closeCache() {
  await redis.quit();
}

module.exports = { cached, invalidate, closeCache };
