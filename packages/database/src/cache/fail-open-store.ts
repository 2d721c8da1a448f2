import type { CacheStore } from './cache-store.ts';
import type { CircuitBreaker } from './circuit-breaker.ts';
import type { CacheCounters } from './cache-metrics.ts';

export type Outcome<T> = { readonly ok: true; readonly value: T } | { readonly ok: false };

const FAILED: Outcome<never> = Object.freeze({ ok: false });

class StoreTimeoutError extends Error {
  constructor(ms: number) {
    super(`cache store call took longer than ${ms} ms`);
    this.name = 'StoreTimeoutError';
  }
}

export interface FailOpenStoreOptions {
  readonly timeoutMs: number;
  readonly breaker: CircuitBreaker;
  readonly counters: CacheCounters;
  readonly onError?: ((error: Error) => void) | undefined;
}

/**
 * Runs store calls so that they can never fail or slow a request: each call is cut off after
 * `timeoutMs`, errors and timeouts are counted and reported as `{ ok: false }` instead of thrown,
 * and a circuit breaker refuses calls (without touching the store) while the store keeps failing.
 */
export class FailOpenStore {
  readonly #store: CacheStore;
  readonly #opts: FailOpenStoreOptions;

  constructor(store: CacheStore, opts: FailOpenStoreOptions) {
    this.#store = store;
    this.#opts = opts;
  }

  /** True while the circuit is closed: callers use this to skip work that needs the store. */
  get healthy(): boolean {
    return this.#opts.breaker.state === 'closed';
  }

  async call<T>(fn: (store: CacheStore) => Promise<T>): Promise<Outcome<T>> {
    const { breaker, counters, timeoutMs } = this.#opts;
    if (!breaker.tryAcquire()) return FAILED;
    let timer: NodeJS.Timeout | undefined;
    const work = fn(this.#store);
    const timeout = new Promise<never>((_, reject) => {
      // After a busy stretch (a burst of requests, a slow synchronous step) the timers phase runs
      // before socket reads; give replies already received one I/O phase to settle the call first,
      // so an event-loop stall is not mistaken for a slow Redis.
      timer = setTimeout(() => setImmediate(() => reject(new StoreTimeoutError(timeoutMs))), timeoutMs);
    });
    try {
      const value = await Promise.race([work, timeout]);
      breaker.success();
      return { ok: true, value };
    } catch (e) {
      // The abandoned call may still settle later; its outcome no longer matters.
      work.catch(() => {});
      counters.redisErrors++;
      if (e instanceof StoreTimeoutError) counters.redisTimeouts++;
      breaker.failure();
      this.#opts.onError?.(e instanceof Error ? e : new Error(String(e)));
      return FAILED;
    } finally {
      clearTimeout(timer);
    }
  }
}
