import type { CircuitState } from './circuit-breaker.ts';

/** Counters since the cache was created. Plain numbers: add them to any metrics exporter as they are. */
export interface CacheCounters {
  /** Reads answered from a fresh entry (in Redis or, counted in `localHits` too, in the local tier). */
  hits: number;
  /** Reads answered from this process's local tier without asking Redis. */
  localHits: number;
  /** Reads that found no valid entry (absent, expired, or invalidated). */
  misses: number;
  /** Reads answered from an entry past its ttl but within swr, while one caller refreshes it. */
  staleServed: number;
  /** Reads that waited for another caller's database read (same process or, via the lease, another one). */
  coalescedWaits: number;
  /** Database reads made on behalf of cached queries. */
  loads: number;
  /** Entries stored. */
  fills: number;
  /** Fills refused because a write invalidated the data while it was being read (the stale-refill race). */
  staleFillsRejected: number;
  /** Reads that skipped the cache: circuit open, invalidations not yet delivered, or arguments with no key. */
  bypassed: number;
  /** Generation keys bumped by writes (delivered). */
  invalidations: number;
  /** Invalidations replayed after Redis came back. */
  invalidationsReplayed: number;
  /** Writes inside an interactive transaction this cache could not follow to its commit (invalidated twice instead). */
  untrackedTransactionWrites: number;
  /** Failed Redis calls, timeouts included. */
  redisErrors: number;
  /** Redis calls abandoned after the timeout. */
  redisTimeouts: number;
  /** Results that could not be encoded (and were not cached). */
  encodeErrors: number;
  /**
   * Reads that asked for the cache and went to the database instead, because their dependencies or
   * key could not be derived (an argument the planner does not understand), or were not stored
   * because an extension below the cache changed their arguments or result.
   */
  uncacheable: number;
}

export interface CacheStats extends CacheCounters {
  readonly service: string;
  /** False when no Redis is configured: every read goes to the database. */
  readonly enabled: boolean;
  readonly circuit: CircuitState | 'off';
  /** How many times the circuit has opened. */
  readonly circuitOpens: number;
  /** Generation keys waiting to be bumped once Redis answers again. */
  readonly pendingInvalidations: number;
  /** Reads currently loading from the database on behalf of the cache. */
  readonly inFlight: number;
  /** The local tier: off (not configured), connecting (not tracking yet, or after a disconnect: serves nothing), on, closed. */
  readonly local: 'off' | 'connecting' | 'on' | 'closed';
  /** Copies held by the local tier. */
  readonly localEntries: number;
  /** The service pool's connections, when the extension was given the pool. */
  readonly pool?: { readonly total: number; readonly idle: number; readonly waiting: number };
}

export const newCounters = (): CacheCounters => ({
  hits: 0,
  localHits: 0,
  misses: 0,
  staleServed: 0,
  coalescedWaits: 0,
  loads: 0,
  fills: 0,
  staleFillsRejected: 0,
  bypassed: 0,
  invalidations: 0,
  invalidationsReplayed: 0,
  untrackedTransactionWrites: 0,
  redisErrors: 0,
  redisTimeouts: 0,
  encodeErrors: 0,
  uncacheable: 0,
});
