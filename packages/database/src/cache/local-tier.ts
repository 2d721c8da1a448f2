import { Redis } from 'ioredis';

export interface LocalTierOptions {
  /** The Redis the cache uses: the tier opens one more connection to it, for invalidation messages. */
  readonly url: string;
  /** Name of the tracking connection in CLIENT LIST. */
  readonly connectionName?: string;
  /** Key prefixes of every generation key a local entry can depend on (Redis tracks these). */
  readonly prefixes: readonly string[];
  /** Entries kept at most; the oldest go first. */
  readonly maxEntries: number;
  /** Longest time a local copy is served, whatever Redis says (a bound for a silent network failure). */
  readonly ttlMs: number;
  /**
   * Copies are served only while a ping sent at most this long ago has been answered (pings go out
   * every half of it): Redis answers a ping after every invalidation message it queued before, so
   * this bounds how late a message can be, even when the network or this event loop stalls. Three
   * times this without an answer and the connection is dropped and made again.
   */
  readonly heartbeatMs: number;
  readonly onError?: ((error: Error) => void) | undefined;
}

export type LocalTierState = 'connecting' | 'on' | 'closed';

/** What a Redis lookup started from: the tier's clear count and the versions of the read's keys. */
export interface LocalStamp {
  readonly clears: number;
  readonly versions: readonly number[];
}

interface LocalEntry {
  readonly payload: string;
  /** The entry's own freshness (wall clock, as Redis entries record it). */
  readonly freshUntil: number;
  /** When the database read behind it started (wall clock): a read with a shorter ttl refuses older copies. */
  readonly filledAt: number;
  /** The tier's ttl (monotonic clock: a wall-clock step cannot extend it). */
  readonly localUntil: number;
  /** The local version of each generation key of the read (same order) when the entry was stored. */
  readonly versions: readonly number[];
}

/** Generation keys whose versions are remembered before the tier starts over (drops every entry). */
const MAX_VERSIONS = 200_000;

/** Every tier of this process: a write invalidates them all at once, before and after Redis has it. */
const tiers = new Set<LocalTier>();

/**
 * Marks generation keys changed in every local tier of this process, so no read in this process
 * answers from a local copy that depends on them (read-your-writes within the process, whatever
 * the order in which Redis's reply and its invalidation message arrive).
 */
export function invalidateLocally(genKeys: readonly string[]): void {
  for (const t of tiers) t.invalidate(genKeys);
}

/**
 * In-process copies of cache entries (a "near cache"), served without asking Redis. A copy is kept
 * only while Redis tells this process about every change to the generation keys it depends on:
 * Redis client-side caching in broadcast mode (`CLIENT TRACKING ON BCAST PREFIX ...`), with the
 * invalidation messages redirected to this tier's own RESP2 connection subscribed to
 * `__redis__:invalidate`.
 *
 * Each generation key has a local version, raised by every invalidation message (and by writes in
 * this process, see `invalidateLocally`); a copy records the versions it was stored under and is
 * served only while they are unchanged, for at most `ttlMs` and never past the entry's own
 * freshness. A copy is stored only if no invalidation of its keys arrived between the Redis lookup
 * that found it and the store (`stamp()`/`put()`). When the connection drops, a heartbeat goes unanswered or
 * Redis flushes, every copy is dropped and the tier stays off until it is subscribed again.
 *
 * The guarantee is weaker than the Redis tier's: a read in another process may return the old value
 * for as long as Redis's invalidation message takes to arrive there (typically well under a
 * millisecond on a LAN; at most `ttlMs` if the network fails silently). Within this process a
 * write is never followed by a stale read.
 */
export class LocalTier {
  readonly #o: LocalTierOptions;
  readonly #redis: Redis;
  readonly #versions = new Map<string, number>();
  readonly #entries = new Map<string, LocalEntry>();
  /** Raised whenever every copy and version is dropped: a stamp from before can no longer be trusted. */
  #clears = 0;
  #state: LocalTierState = 'connecting';
  /** Which connection the current (re)subscription belongs to. */
  #attempt = 0;
  #heartbeat: NodeJS.Timeout | undefined;
  /** When the newest answered ping (or the subscription) was sent, performance.now(). */
  #answeredAt = Number.NEGATIVE_INFINITY;

  constructor(opts: LocalTierOptions) {
    this.#o = opts;
    this.#redis = new Redis(opts.url, {
      // RESP2: invalidation messages then arrive as pub/sub messages, which ioredis delivers.
      protocol: 2,
      autoResubscribe: false,
      connectionName: opts.connectionName ?? 'vh-cache-local',
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      enableReadyCheck: false,
      connectTimeout: 1_000,
      commandTimeout: Math.max(opts.heartbeatMs, 200),
      retryStrategy: (attempt) => Math.min(50 * 2 ** Math.min(attempt, 6), 2_000),
    });
    this.#redis.on('error', (e: Error) => opts.onError?.(e));
    this.#redis.on('ready', () => void this.#subscribe());
    this.#redis.on('close', () => this.#off());
    this.#redis.on('messageBuffer', (channel: Buffer, message: unknown) => {
      if (String(channel) === '__redis__:invalidate') this.#onMessage(message);
    });
    tiers.add(this);
  }

  get state(): LocalTierState {
    return this.#state;
  }

  get size(): number {
    return this.#entries.size;
  }

  /** The encoded value, if a valid copy is here, read from the database less than `maxAgeMs` ago. */
  get(entryKey: string, genKeys: readonly string[], maxAgeMs = Number.POSITIVE_INFINITY): string | undefined {
    if (!this.#current()) return undefined;
    const e = this.#entries.get(entryKey);
    if (e === undefined) return undefined;
    const now = Date.now();
    if (now - e.filledAt >= maxAgeMs) return undefined;
    let valid = performance.now() < e.localUntil && now < e.freshUntil;
    for (let i = 0; valid && i < genKeys.length; i++) valid = this.#versions.get(genKeys[i] as string) === e.versions[i];
    if (!valid) {
      this.#entries.delete(entryKey);
      return undefined;
    }
    return e.payload;
  }

  /**
   * Taken before the Redis lookup whose answer may be `put`; undefined while the tier is off. From
   * here on, invalidation messages for these keys are counted (messages for keys no read has asked
   * about are ignored, so versions are kept only for keys that matter).
   */
  stamp(genKeys: readonly string[]): LocalStamp | undefined {
    if (!this.#current()) return undefined;
    if (this.#versions.size + genKeys.length > MAX_VERSIONS) this.#clear();
    const versions = genKeys.map((k) => {
      let v = this.#versions.get(k);
      if (v === undefined) this.#versions.set(k, (v = 0));
      return v;
    });
    return { clears: this.#clears, versions };
  }

  /** On, and every invalidation message Redis sent up to `heartbeatMs` ago has been processed. */
  #current(): boolean {
    return this.#state === 'on' && performance.now() - this.#answeredAt <= this.#o.heartbeatMs;
  }

  /** Keeps a copy of an entry Redis just confirmed, unless one of its keys changed since `stamp`. */
  put(entryKey: string, genKeys: readonly string[], payload: string, freshUntil: number, stamp: LocalStamp | undefined, filledAt = 0): void {
    if (stamp === undefined || stamp.clears !== this.#clears || this.#state !== 'on' || freshUntil <= Date.now()) return;
    for (let i = 0; i < genKeys.length; i++) if (this.#versions.get(genKeys[i] as string) !== stamp.versions[i]) return;
    this.#entries.delete(entryKey);
    if (this.#entries.size >= this.#o.maxEntries) this.#entries.delete(this.#entries.keys().next().value as string);
    this.#entries.set(entryKey, { payload, freshUntil, filledAt, localUntil: performance.now() + this.#o.ttlMs, versions: stamp.versions });
  }

  /** These generation keys changed: copies that depend on them are no longer served, lookups in flight not kept. */
  invalidate(genKeys: readonly string[]): void {
    for (const k of genKeys) {
      const v = this.#versions.get(k);
      if (v !== undefined) this.#versions.set(k, v + 1);
    }
  }

  /** Idempotent: closes the tracking connection; the tier serves nothing afterwards. */
  async close(): Promise<void> {
    if (this.#state === 'closed') return;
    this.#state = 'closed';
    tiers.delete(this);
    clearInterval(this.#heartbeat);
    this.#clear();
    await this.#redis.quit().catch(() => this.#redis.disconnect());
  }

  async #subscribe(): Promise<void> {
    const attempt = ++this.#attempt;
    let sent = 0;
    try {
      const id = (await this.#redis.client('ID')) as number;
      await this.#redis.call('CLIENT', 'TRACKING', 'ON', 'REDIRECT', String(id), 'BCAST', ...this.#o.prefixes.flatMap((p) => ['PREFIX', p]));
      sent = performance.now();
      await this.#redis.subscribe('__redis__:invalidate');
    } catch (e) {
      if (attempt !== this.#attempt || this.#state === 'closed') return;
      const err = e instanceof Error ? e : new Error(String(e));
      // Anything else (e.g. BUSY while a long script runs) is retried with the reconnect backoff.
      if (err.name === 'ReplyError' && /^(NOPERM|ERR unknown (sub)?command|ERR Prefix)/i.test(err.message)) {
        // Redis refused the command (before 6.0, or an ACL or a managed service that forbids
        // CLIENT TRACKING): retrying cannot help. The tier stays off; the Redis tier works as before.
        this.#o.onError?.(new Error(`cache local tier: Redis refused client tracking (${err.message}); the local tier is off`));
        void this.close();
        return;
      }
      this.#o.onError?.(err);
      this.#redis.disconnect(true);
      return;
    }
    if (attempt !== this.#attempt || this.#state === 'closed') return;
    // Changes made while no connection was tracking were never announced: start empty.
    this.#clear();
    this.#state = 'on';
    this.#answeredAt = sent;
    clearInterval(this.#heartbeat);
    this.#heartbeat = setInterval(() => this.#beat(attempt), Math.max(1, Math.floor(this.#o.heartbeatMs / 2)));
    this.#heartbeat.unref();
  }

  #beat(attempt: number): void {
    if (attempt !== this.#attempt || this.#state !== 'on') return;
    if (performance.now() - this.#answeredAt > 3 * this.#o.heartbeatMs) {
      // No answer for three heartbeats: messages may be stuck too. Start over.
      this.#o.onError?.(new Error(`cache local tier: no answer from Redis within ${3 * this.#o.heartbeatMs} ms; local copies dropped until it answers`));
      this.#off();
      this.#redis.disconnect(true);
      return;
    }
    const sent = performance.now();
    this.#redis.ping().then(
      () => {
        if (attempt === this.#attempt && sent > this.#answeredAt) this.#answeredAt = sent;
      },
      () => {},
    );
  }

  #onMessage(message: unknown): void {
    // null: Redis flushed a database (or the tracking table overflowed): everything may have changed.
    if (!Array.isArray(message)) return this.#clear();
    this.invalidate(message.map(String));
  }

  #off(): void {
    if (this.#state === 'closed') return;
    this.#state = 'connecting';
    this.#attempt++;
    clearInterval(this.#heartbeat);
    this.#clear();
  }

  #clear(): void {
    this.#clears++;
    this.#entries.clear();
    this.#versions.clear();
  }
}
