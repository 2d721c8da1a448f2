import { randomBytes } from 'node:crypto';
import type { CacheStore } from './cache-store.ts';
import { CircuitBreaker } from './circuit-breaker.ts';
import { newCounters, type CacheCounters, type CacheStats } from './cache-metrics.ts';
import { FailOpenStore } from './fail-open-store.ts';
import { invalidateLocally, type LocalStamp, type LocalTier } from './local-tier.ts';
import { PendingInvalidations } from './pending-invalidations.ts';
import { decodeValue, encodeValue } from './value-codec.ts';

export interface QueryCacheOptions {
  readonly service: string;
  /** Undefined: the cache is off and says why in `health()`. */
  readonly store: CacheStore | undefined;
  readonly offReason: string;
  readonly seqKey: string;
  /** Bumped instead of the individual keys when too many invalidations are waiting for Redis. */
  readonly epochKey: string;
  readonly timeoutMs: number;
  readonly failureThreshold: number;
  readonly openMs: number;
  readonly leaseMs: number;
  readonly leaseWaitMs: number;
  readonly genTtlMs: number;
  readonly maxPending: number;
  readonly onError?: ((error: Error) => void) | undefined;
  /** In-process copies for reads that ask for them (`local: true`); closed with the cache. */
  readonly local?: LocalTier | undefined;
  /** Releases what this cache opened (its own Redis connection); not called for an injected store. */
  readonly release?: (() => Promise<void>) | undefined;
}

/** One cacheable read: where its entry lives, what it depends on, how long it stays fresh. */
export interface ReadSpec {
  readonly entryKey: string;
  readonly leaseKey: string;
  readonly genKeys: readonly string[];
  readonly ttlMs: number;
  readonly swrMs: number;
  /** May be answered from this process's local tier (when there is one). */
  readonly local?: boolean;
}

export interface CacheHealth {
  readonly service: string;
  readonly enabled: boolean;
  /** off: no Redis configured; ok; degraded: answering, but invalidations are still waiting; down. */
  readonly status: 'off' | 'ok' | 'degraded' | 'down';
  readonly circuit: CacheStats['circuit'];
  readonly pendingInvalidations: number;
  readonly reason?: string;
}

interface Loaded {
  readonly value: unknown;
  /** The encoded value, so coalesced callers each get their own copy; undefined if not encodable. */
  readonly payload: string | undefined;
}

interface Flight {
  /** Settles when the database read (or another process's fill) gives a value. */
  readonly loaded: Promise<Loaded>;
  /** Settles when the fill is done too; the flight is joinable until then. */
  readonly done: Promise<void>;
}

const NOT_DECODED = Symbol('not decoded');

/**
 * Read-through cache with generation checks, fill leases, request coalescing and fail-open
 * behaviour, independent of Prisma. See README.md for the consistency guarantee.
 */
export class QueryCache {
  readonly #o: QueryCacheOptions;
  readonly #counters: CacheCounters = newCounters();
  readonly #breaker: CircuitBreaker;
  readonly #store: FailOpenStore | undefined;
  readonly #pending: PendingInvalidations;
  readonly #flights = new Map<string, Flight>();
  readonly #background = new Set<Promise<unknown>>();
  #replay: Promise<boolean> | undefined;
  /** Keys taken out of `#pending` by the replay in progress: still owed until it succeeds. */
  #replaying = 0;
  #retryTimer: NodeJS.Timeout | undefined;
  #closed: Promise<void> | undefined;

  constructor(opts: QueryCacheOptions) {
    this.#o = opts;
    this.#breaker = new CircuitBreaker({ failureThreshold: opts.failureThreshold, openMs: opts.openMs });
    this.#store = opts.store && new FailOpenStore(opts.store, { timeoutMs: opts.timeoutMs, breaker: this.#breaker, counters: this.#counters, onError: opts.onError });
    this.#pending = new PendingInvalidations(opts.maxPending, [opts.epochKey]);
  }

  get enabled(): boolean {
    return this.#store !== undefined && this.#closed === undefined;
  }

  /**
   * Answers from the cache when a valid entry exists; otherwise runs `load` (once per key across
   * callers) and stores its result, unless `storable` (given the encoded result) says no.
   */
  async read<T>(spec: ReadSpec, load: () => Promise<T>, storable?: (payload: string) => boolean): Promise<T> {
    const store = this.#store;
    if (!store || this.#closed) return load();
    if ((this.#pending.size > 0 || this.#replay) && !(await this.#deliverPending())) return this.#bypass(load);
    const local = spec.local === true ? this.#o.local : undefined;
    if (local !== undefined) {
      const payload = local.get(spec.entryKey, spec.genKeys, spec.ttlMs);
      if (payload !== undefined) {
        try {
          const value = decodeValue(payload);
          this.#counters.hits++;
          this.#counters.localHits++;
          return value as T;
        } catch (e) {
          this.#report(e);
        }
      }
    }
    const stamp = local?.stamp(spec.genKeys);
    const found = await store.call((s) => s.lookup(spec.entryKey, spec.genKeys));
    if (!found.ok) return this.#bypass(load);
    const current = joinGens(found.value.gens);
    const entry = found.value.entry;
    if (entry !== null && current !== undefined) {
      const value = this.#validEntry(entry, current, spec, load, local, stamp, storable);
      if (value !== NOT_DECODED) return value.value as T;
    }
    this.#counters.misses++;
    return this.#loadShared(spec, load, found.value.gens, storable);
  }

  /** Bumps the keys now; if Redis does not take them they are kept and delivered before this process reads cached data again. */
  async invalidate(genKeys: readonly string[]): Promise<void> {
    const store = this.#store;
    if (!store || genKeys.length === 0 || this.#closed) return;
    // Local copies in this process: dropped now, and again once Redis has the bump (a lookup that
    // raced with it may have stored one in between; its invalidation message may come later still).
    invalidateLocally(genKeys);
    const sent = await store.call((s) => s.bump(this.#o.seqKey, genKeys, this.#o.genTtlMs));
    invalidateLocally(genKeys);
    if (sent.ok) {
      this.#counters.invalidations += genKeys.length;
      return;
    }
    this.#pending.add(genKeys);
    this.#scheduleRetry();
  }

  /** Counted by the extension for a read that asked for the cache but has no derivable key or dependencies. */
  countUncacheable(): void {
    this.#counters.uncacheable++;
  }

  /** Counted by the extension when a transaction write had to be invalidated before and after its (unseen) commit. */
  countUntrackedTransactionWrite(): void {
    this.#counters.untrackedTransactionWrites++;
  }

  stats(): CacheStats {
    return {
      ...this.#counters,
      service: this.#o.service,
      enabled: this.enabled,
      circuit: this.#store ? this.#breaker.state : 'off',
      circuitOpens: this.#breaker.opens,
      pendingInvalidations: this.#pending.size + this.#replaying,
      inFlight: this.#flights.size,
      local: this.#o.local === undefined ? 'off' : this.#o.local.state,
      localEntries: this.#o.local?.size ?? 0,
    };
  }

  async health(): Promise<CacheHealth> {
    const base = { service: this.#o.service, pendingInvalidations: this.#pending.size + this.#replaying };
    if (!this.#store || this.#closed) {
      return { ...base, enabled: false, status: 'off', circuit: 'off', reason: this.#closed ? 'cache closed' : this.#o.offReason };
    }
    // Off the request path: a connection still opening (right after start, or on a busy machine) gets up to a second.
    const ping = await this.#store.call((s) => s.ping(), Math.max(this.#o.timeoutMs, 1_000));
    const delivered = ping.ok && (this.#pending.size === 0 || (await this.#deliverPending()));
    const status = !ping.ok ? 'down' : delivered ? 'ok' : 'degraded';
    return { ...base, enabled: true, status, circuit: this.#breaker.state, pendingInvalidations: this.#pending.size + this.#replaying };
  }

  /** Idempotent. Stops retries, lets running fills finish (bounded by the store timeout), releases its own connection. Later reads go straight to the database. */
  close(): Promise<void> {
    this.#closed ??= (async () => {
      clearInterval(this.#retryTimer);
      await Promise.allSettled([...this.#background]);
      await this.#o.local?.close();
      await this.#o.release?.();
    })();
    return this.#closed;
  }

  #validEntry(
    entry: string,
    current: string,
    spec: ReadSpec,
    load: () => Promise<unknown>,
    local: LocalTier | undefined,
    stamp: LocalStamp | undefined,
    storable: ((payload: string) => boolean) | undefined,
  ): { value: unknown } | typeof NOT_DECODED {
    const a = entry.indexOf('|');
    const b = entry.indexOf('|', a + 1);
    if (a < 0 || b < 0 || entry.slice(0, a) !== current) return NOT_DECODED;
    // Freshness is this read's own ttl from when the entry's database read started, whatever ttl
    // the read that filled it asked for.
    const filledAt = Number(entry.slice(a + 1, b));
    const freshUntil = filledAt + spec.ttlMs;
    const now = Date.now();
    if (now >= freshUntil + spec.swrMs) return NOT_DECODED;
    let value: unknown;
    try {
      value = decodeValue(entry.slice(b + 1));
    } catch (e) {
      this.#report(e);
      return NOT_DECODED;
    }
    if (now < freshUntil) {
      this.#counters.hits++;
      local?.put(spec.entryKey, spec.genKeys, entry.slice(b + 1), freshUntil, stamp, filledAt);
    } else {
      this.#counters.staleServed++;
      this.#refresh(spec, entry.slice(0, a), load, storable);
    }
    return { value };
  }

  #loadShared<T>(spec: ReadSpec, load: () => Promise<T>, seen: readonly (string | null)[], storable: ((payload: string) => boolean) | undefined): Promise<T> {
    // Only callers that saw the same generations share a read: one that started after a write's
    // invalidation saw the new values and so never joins a read that may predate that write.
    const signature = `${spec.entryKey}\n${seen.map((g) => g ?? '').join(',')}`;
    const flight = this.#flights.get(signature);
    if (flight) {
      this.#counters.coalescedWaits++;
      return flight.loaded.then(copyOf) as Promise<T>;
    }
    const started = this.#startFlight(spec, load, true, storable);
    this.#flights.set(signature, started);
    void started.done.finally(() => this.#flights.get(signature) === started && this.#flights.delete(signature));
    return started.loaded.then((l) => l.value as T);
  }

  /** A stale-while-revalidate refresh: only if it gets the lease, never waits, never joined. */
  #refresh(spec: ReadSpec, gens: string, load: () => Promise<unknown>, storable: ((payload: string) => boolean) | undefined): void {
    const signature = `${spec.entryKey}\n${gens}\nrefresh`;
    if (this.#flights.has(signature)) return;
    const flight = this.#startFlight(spec, load, false, storable);
    this.#flights.set(signature, flight);
    flight.loaded.catch((e: unknown) => this.#report(e));
    void flight.done.finally(() => this.#flights.delete(signature));
  }

  #startFlight(spec: ReadSpec, load: () => Promise<unknown>, foreground: boolean, storable: ((payload: string) => boolean) | undefined): Flight {
    let settle!: (l: Loaded) => void;
    let fail!: (e: unknown) => void;
    const loaded = new Promise<Loaded>((res, rej) => {
      settle = res;
      fail = rej;
    });
    const done = this.#runFlight(spec, load, foreground, settle, storable).catch(fail);
    this.#track(done);
    return { loaded, done };
  }

  async #runFlight(
    spec: ReadSpec,
    load: () => Promise<unknown>,
    foreground: boolean,
    settle: (l: Loaded) => void,
    storable: ((payload: string) => boolean) | undefined,
  ): Promise<void> {
    const store = this.#store!;
    const token = randomBytes(9).toString('base64url');
    const { seqKey, leaseMs, genTtlMs } = this.#o;
    const lease = await store.call((s) => s.lease({ seqKey, leaseKey: spec.leaseKey, token, leaseMs, genKeys: spec.genKeys, genTtlMs }));
    if (!lease.ok) {
      if (!foreground) return settle({ value: undefined, payload: undefined });
      this.#counters.loads++;
      const value = await load();
      settle({ value, payload: undefined });
      return;
    }
    if (!lease.value.acquired) {
      if (!foreground) return settle({ value: undefined, payload: undefined });
      const other = await this.#awaitOtherFill(spec);
      if (other) {
        this.#counters.coalescedWaits++;
        return settle(other);
      }
    }
    this.#counters.loads++;
    const filledAt = Date.now();
    const value = await load();
    let payload = this.#encode(value);
    if (payload !== undefined && storable !== undefined && !storable(payload)) {
      this.#counters.uncacheable++;
      payload = undefined;
    }
    settle({ value, payload });
    if (payload !== undefined) await this.#fill(spec, payload, lease.value.gens, lease.value.acquired ? token : '', filledAt);
  }

  /** Another caller holds the lease: poll briefly for its entry, then give up and read the database. */
  async #awaitOtherFill(spec: ReadSpec): Promise<Loaded | undefined> {
    const deadline = Date.now() + this.#o.leaseWaitMs;
    for (let delay = 2; Date.now() + delay < deadline; delay = Math.min(delay * 2, 25)) {
      await sleep(delay);
      const found = await this.#store!.call((s) => s.lookup(spec.entryKey, spec.genKeys));
      if (!found.ok) return undefined;
      const current = joinGens(found.value.gens);
      const entry = found.value.entry;
      if (entry === null || current === undefined) continue;
      const a = entry.indexOf('|');
      const b = entry.indexOf('|', a + 1);
      if (a < 0 || b < 0 || entry.slice(0, a) !== current) continue;
      const payload = entry.slice(b + 1);
      try {
        return { value: decodeValue(payload), payload };
      } catch (e) {
        this.#report(e);
        return undefined;
      }
    }
    return undefined;
  }

  /** Stores the entry; `filledAt`: when its database read started (a read's freshness counts from there). */
  async #fill(spec: ReadSpec, payload: string, gens: readonly string[], token: string, filledAt: number): Promise<void> {
    const value = `${gens.join(',')}|${filledAt}|${payload}`;
    const ttlMs = spec.ttlMs + spec.swrMs;
    const stored = await this.#store!.call((s) =>
      s.fill({ entryKey: spec.entryKey, value, ttlMs, genKeys: spec.genKeys, expectedGens: gens, leaseKey: spec.leaseKey, token }),
    );
    if (!stored.ok) return;
    if (stored.value) this.#counters.fills++;
    else this.#counters.staleFillsRejected++;
  }

  #encode(value: unknown): string | undefined {
    try {
      return encodeValue(value);
    } catch (e) {
      this.#counters.encodeErrors++;
      this.#report(e);
      return undefined;
    }
  }

  #bypass<T>(load: () => Promise<T>): Promise<T> {
    this.#counters.bypassed++;
    return load();
  }

  /** Sends every waiting invalidation; concurrent callers share one delivery. False: still undelivered. */
  async #deliverPending(): Promise<boolean> {
    while (this.#pending.size > 0 || this.#replay) {
      this.#replay ??= this.#sendPending().finally(() => {
        this.#replay = undefined;
      });
      if (!(await this.#replay)) return false;
    }
    return true;
  }

  async #sendPending(): Promise<boolean> {
    const keys = this.#pending.drain();
    if (keys.length === 0) return true;
    this.#replaying = keys.length;
    const sent = await this.#store!.call((s) => s.bump(this.#o.seqKey, keys, this.#o.genTtlMs));
    invalidateLocally(keys);
    this.#replaying = 0;
    if (sent.ok) {
      this.#counters.invalidationsReplayed += keys.length;
      return true;
    }
    this.#pending.add(keys);
    return false;
  }

  /** Undelivered invalidations are retried in the background too, so an idle process catches up. */
  #scheduleRetry(): void {
    if (this.#retryTimer || this.#closed) return;
    this.#retryTimer = setInterval(() => {
      void this.#deliverPending().then((ok) => {
        if (ok && this.#pending.size === 0) {
          clearInterval(this.#retryTimer);
          this.#retryTimer = undefined;
        }
      });
    }, Math.max(50, Math.floor(this.#o.openMs / 2)));
    this.#retryTimer.unref();
  }

  #track(p: Promise<unknown>): void {
    this.#background.add(p);
    void p.finally(() => this.#background.delete(p));
  }

  #report(e: unknown): void {
    this.#o.onError?.(e instanceof Error ? e : new Error(String(e)));
  }
}

/** Generations as an entry records them; undefined if any key is absent (an entry never records an absent key). */
function joinGens(gens: readonly (string | null)[]): string | undefined {
  let out = '';
  for (let i = 0; i < gens.length; i++) {
    const g = gens[i];
    if (g === null || g === undefined) return undefined;
    out += i === 0 ? g : `,${g}`;
  }
  return out;
}

function copyOf(l: Loaded): unknown {
  return l.payload === undefined ? l.value : decodeValue(l.payload);
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
