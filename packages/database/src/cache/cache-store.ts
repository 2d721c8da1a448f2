/**
 * The narrow edge between the cache and Redis. Everything the cache does to the store is one of
 * these five calls, each one round trip; `RedisCacheStore` is the implementation, and anything else
 * that keeps the same atomicity (each call applied as a whole, in order) can stand in for it.
 *
 * Generation keys hold opaque values that are never reused (a store-wide sequence plus the server
 * clock). An entry records the generation values it was read under; it is valid only while every
 * one of those keys still holds the same value.
 */
export interface CacheStore {
  /** The entry (or null) and the current value of each generation key (null when absent). */
  lookup(entryKey: string, genKeys: readonly string[]): Promise<CacheLookup>;
  /**
   * Gives every absent generation key a fresh value, returns all of them, and tries to take the
   * fill lease (`SET NX PX`). `leaseMs` 0 asks for the generations only.
   */
  lease(req: LeaseRequest): Promise<LeaseResult>;
  /**
   * Stores the entry only if every generation key still holds `expectedGens` (the values seen
   * before the database read); releases the lease if `token` still owns it. False: not stored.
   */
  fill(req: FillRequest): Promise<boolean>;
  /** Gives each generation key a fresh value: every entry recorded under the old value is unreachable. */
  bump(seqKey: string, genKeys: readonly string[], genTtlMs: number): Promise<void>;
  ping(): Promise<void>;
}

export interface CacheLookup {
  readonly entry: string | null;
  readonly gens: readonly (string | null)[];
}

export interface LeaseRequest {
  readonly seqKey: string;
  readonly leaseKey: string;
  readonly token: string;
  readonly leaseMs: number;
  readonly genKeys: readonly string[];
  readonly genTtlMs: number;
}

export interface LeaseResult {
  readonly acquired: boolean;
  readonly gens: readonly string[];
}

export interface FillRequest {
  readonly entryKey: string;
  readonly value: string;
  readonly ttlMs: number;
  readonly genKeys: readonly string[];
  readonly expectedGens: readonly string[];
  readonly leaseKey: string;
  /** Empty when the filler holds no lease. */
  readonly token: string;
}
