import type { CacheStore } from './cache-store.ts';
import type { CircuitBreaker } from './circuit-breaker.ts';
import type { CacheCounters } from './cache-metrics.ts';

export type Outcome<T> = { readonly ok: true; readonly value: T } | { readonly ok: false };

const FAILED: Outcome<never> = Object.freeze({ ok: false });
const FAILED_PROMISE: Promise<Outcome<never>> = Promise.resolve(FAILED);

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

/** One call in flight: settled by its reply or, past its deadline, by the sweeper. */
interface InFlight {
  readonly deadline: number;
  readonly timeoutMs: number;
  settled: boolean;
  fail(e: Error): void;
}

/**
 * Runs store calls so that they can never fail or slow a request: each call is cut off after
 * `timeoutMs`, errors and timeouts are counted and reported as `{ ok: false }` instead of thrown,
 * and a circuit breaker refuses calls (without touching the store) while the store keeps failing.
 *
 * Deadlines are enforced by one sweeper timer for all calls in flight (ticking every tenth of the
 * timeout while there are any), not a timer and a `Promise.race` per call: a call is cut off
 * between `timeoutMs` and 1.1 × `timeoutMs`, and a cache hit pays for no timer at all.
 */
export class FailOpenStore {
  readonly #store: CacheStore;
  readonly #opts: FailOpenStoreOptions;
  readonly #inFlight = new Set<InFlight>();
  #sweeper: NodeJS.Timeout | undefined;

  constructor(store: CacheStore, opts: FailOpenStoreOptions) {
    this.#store = store;
    this.#opts = opts;
  }

  /** True while the circuit is closed: callers use this to skip work that needs the store. */
  get healthy(): boolean {
    return this.#opts.breaker.state === 'closed';
  }

  /** `timeoutMs`: a longer limit for a call off the request path (health's ping). */
  call<T>(fn: (store: CacheStore) => Promise<T>, timeoutMs = this.#opts.timeoutMs): Promise<Outcome<T>> {
    if (!this.#opts.breaker.tryAcquire()) return FAILED_PROMISE;
    let work: Promise<T>;
    try {
      work = fn(this.#store);
    } catch (e) {
      return Promise.resolve(this.#failed(e));
    }
    return new Promise<Outcome<T>>((resolve) => {
      const call: InFlight = {
        deadline: performance.now() + timeoutMs,
        timeoutMs,
        settled: false,
        fail: (e) => {
          if (call.settled) return;
          call.settled = true;
          this.#inFlight.delete(call);
          resolve(this.#failed(e));
        },
      };
      this.#inFlight.add(call);
      this.#sweep();
      work.then(
        (value) => {
          if (call.settled) return;
          call.settled = true;
          this.#inFlight.delete(call);
          this.#opts.breaker.success();
          resolve({ ok: true, value });
        },
        // A call already cut off may still fail later; its outcome no longer matters.
        (e: unknown) => call.fail(e instanceof Error ? e : new Error(String(e))),
      );
    });
  }

  #failed(e: unknown): Outcome<never> {
    const { breaker, counters } = this.#opts;
    counters.redisErrors++;
    if (e instanceof StoreTimeoutError) counters.redisTimeouts++;
    breaker.failure();
    this.#opts.onError?.(e instanceof Error ? e : new Error(String(e)));
    return FAILED;
  }

  /** Starts the sweeper if calls are in flight; it stops itself at its first tick with none (so it never holds the process longer). */
  #sweep(): void {
    if (this.#sweeper) return;
    const { timeoutMs } = this.#opts;
    this.#sweeper = setInterval(() => {
      if (this.#inFlight.size === 0) {
        clearInterval(this.#sweeper);
        this.#sweeper = undefined;
        return;
      }
      const now = performance.now();
      for (const call of this.#inFlight) {
        // After a busy stretch (a burst of requests, a slow synchronous step) the timers phase
        // runs before socket reads; give replies already received one I/O phase to settle the
        // call first, so an event-loop stall is not mistaken for a slow store.
        if (now >= call.deadline) setImmediate(() => call.fail(new StoreTimeoutError(call.timeoutMs)));
      }
    }, Math.max(1, Math.floor(timeoutMs / 10)));
  }
}
