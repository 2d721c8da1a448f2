import { Redis } from 'ioredis';

export interface RedisConnectionOptions {
  /** Per-command limit; the cache adds its own, this one frees ioredis's queue. */
  readonly commandTimeoutMs: number;
  /** Called with each connection error (already counted by the cache); never throws. */
  readonly onError?: (error: Error) => void;
}

/**
 * An ioredis client set up for a cache that must fail open: no offline queue (a command while
 * disconnected fails at once instead of waiting), no per-request retries, short connect and
 * command timeouts, and background reconnects capped at 2 s apart. Errors are routed to `onError`
 * rather than becoming unhandled 'error' events.
 *
 * @example const redis = openRedis('redis://127.0.0.1:6379/0', { commandTimeoutMs: 50 });
 */
export function openRedis(url: string, opts: RedisConnectionOptions): Redis {
  const redis = new Redis(url, {
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    commandTimeout: Math.max(opts.commandTimeoutMs * 4, 200),
    connectTimeout: 1_000,
    retryStrategy: (attempt) => Math.min(50 * 2 ** Math.min(attempt, 6), 2_000),
    // A readiness check runs INFO before the first command; skip it so "ready" is one round trip.
    enableReadyCheck: false,
    lazyConnect: false,
  });
  redis.on('error', (e: Error) => opts.onError?.(e));
  return redis;
}
