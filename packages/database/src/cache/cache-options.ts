import { VendhubError } from '../errors/vendhub-error.ts';
import type { CacheStore } from './cache-store.ts';
import type { WriteEvent } from './dependency-planner.ts';
import type { RedisLike } from './redis-cache-store.ts';
import { redactRedisError, redisUrlSecrets } from './redact-redis-error.ts';

/** Per-query cache option on reads: `true` uses the model's defaults. */
export type ReadCacheOption =
  | boolean
  | {
      /** Seconds the entry is fresh. */
      readonly ttl?: number;
      /** Seconds after `ttl` during which the old value is served while one caller refreshes it. */
      readonly swr?: number;
      /** Tags this read depends on; a write declaring one of them invalidates it. */
      readonly tags?: readonly string[];
      /** May be answered from this process's memory (the `local` tier, when configured); see its guarantee. */
      readonly local?: boolean;
    };

/** Per-query option on writes: extra tags to invalidate once the write has committed. */
export interface WriteCacheOption {
  readonly tags?: readonly string[];
}

export interface ModelCachePolicy {
  readonly ttl?: number;
  readonly swr?: number;
  /** false: reads of this model are never cached, even when a query asks. */
  readonly enabled?: boolean;
  /** Default of the read option `local` for this model's reads. */
  readonly local?: boolean;
  /**
   * Tags a write to this model invalidates, e.g. for MachineInventory:
   * `({ rows }) => rows?.map((r) => `machine:${r.machineId}:inventory`) ?? ['machine-inventory']`.
   */
  readonly invalidates?: (write: WriteEvent) => Iterable<string>;
}

export interface CacheExtensionOptions {
  /** Service name: the key namespace (`auth`, `machines`...). */
  readonly service: string;
  /** Redis to use. Unset or empty (and no `redis`/`store`): the cache is off, `health()` says so. */
  readonly redisUrl?: string | undefined;
  /** An ioredis client you own (not closed by the cache); wins over `redisUrl`. */
  readonly redis?: RedisLike;
  /** Any store; wins over `redis` and `redisUrl`. */
  readonly store?: CacheStore;
  /** schema.prisma text; default: the schema embedded in the client being extended. */
  readonly schema?: string;
  /** Entry namespace; default: a hash of the schema, so a changed schema never reads old entries. */
  readonly schemaVersion?: string;
  /**
   * The identity of the database the client reads (any text; only a hash of it goes into key
   * names). Default: host, port, database name and schema of the client's driver adapter (or of
   * `pool`). Deployments sharing a Redis and prefix but not a database never read each other's
   * entries; give every client of one database the same identity if they reach it by different
   * addresses (a PgBouncer and a direct URL).
   */
  readonly database?: string;
  /**
   * `$executeRaw` / `$executeRawUnsafe` through the cached client: `'invalidate-service'`
   * (default) bumps every model's keys of this service once the statement returned (after commit
   * inside a transaction); `'ignore'` leaves invalidation to the caller (`$cache.invalidateModels`).
   */
  readonly rawWrites?: 'invalidate-service' | 'ignore';
  /** Prefix of every key; default `vh:cache:`. Services sharing a Redis share the prefix (tags are cross-service). */
  readonly keyPrefix?: string;
  /** Defaults for every model: ttl 60 s, swr 0. */
  readonly defaults?: { readonly ttl?: number; readonly swr?: number };
  /** Per-model defaults and invalidation rules, keyed by model name (`User`, `MachineInventory`). */
  readonly models?: Readonly<Record<string, ModelCachePolicy>>;
  /**
   * An in-process tier in front of Redis for reads with `local: true`, kept in sync by Redis
   * client-side caching (one more connection; needs `redisUrl`). A hit costs no round trip; a write
   * in another process reaches it as fast as Redis's invalidation message (see src/cache/README.md).
   * `maxEntries` (10000), `ttl`: longest a copy is served, seconds (5), `heartbeatMs` (1000).
   */
  readonly local?: boolean | { readonly maxEntries?: number; readonly ttl?: number; readonly heartbeatMs?: number };
  /** Limit on each Redis call, ms (default 50). */
  readonly timeoutMs?: number;
  /** Circuit breaker: opens after `failureThreshold` failures in a row (5) for `openMs` (1000). */
  readonly circuit?: { readonly failureThreshold?: number; readonly openMs?: number };
  /** How long a fill lease is held at most, ms (2000). */
  readonly leaseMs?: number;
  /** How long a reader waits for another process's fill before reading the database itself, ms (250). */
  readonly leaseWaitMs?: number;
  /** Lifetime of generation keys, seconds (86400); their expiry only ever causes misses. */
  readonly generationTtl?: number;
  /** Undelivered invalidation keys kept before collapsing into a service-wide flush (10000). */
  readonly maxPendingInvalidations?: number;
  /**
   * A write inside an interactive transaction this cache cannot follow to its commit is invalidated
   * at once and again after this many ms (6000, above Prisma's default 5 s transaction timeout).
   */
  readonly lateInvalidationMs?: number;
  /** The service's pg pool (anything with totalCount/idleCount/waitingCount): its counts appear in `stats().pool`. */
  readonly pool?: { readonly totalCount: number; readonly idleCount: number; readonly waitingCount: number; readonly options?: unknown };
  /** Told about every Redis error or encoding failure (they are counted and never thrown). */
  readonly onError?: (error: Error) => void;
  /** True once the client is closed: cached reads then go straight to the database (Prisma refuses them there). */
  readonly isClosed?: () => boolean;
}

export interface ResolvedCacheOptions {
  readonly service: string;
  readonly redisUrl: string | undefined;
  readonly redis: RedisLike | undefined;
  readonly store: CacheStore | undefined;
  readonly schema: string | undefined;
  readonly schemaVersion: string | undefined;
  readonly database: string | undefined;
  readonly rawWrites: 'invalidate-service' | 'ignore';
  readonly keyPrefix: string;
  readonly ttlMs: number;
  readonly swrMs: number;
  readonly models: Readonly<Record<string, ModelCachePolicy>>;
  readonly timeoutMs: number;
  readonly failureThreshold: number;
  readonly openMs: number;
  readonly leaseMs: number;
  readonly leaseWaitMs: number;
  readonly genTtlMs: number;
  readonly maxPending: number;
  readonly lateInvalidationMs: number;
  /** Undefined: no local tier. */
  readonly local: { readonly maxEntries: number; readonly ttlMs: number; readonly heartbeatMs: number } | undefined;
  readonly onError: ((error: Error) => void) | undefined;
}

/** Validates options, listing every problem in one `CONFIG_INVALID` error, and fills in defaults. */
export function resolveCacheOptions(o: CacheExtensionOptions): ResolvedCacheOptions {
  const problems: string[] = [];
  if (typeof o.service !== 'string' || !/^[a-z][a-z0-9_-]*$/.test(o.service)) problems.push('service must be a lowercase name like "auth"');
  // Key names (cache-keys.ts) put tags under `t:` and the flush key at `epoch` next to the services.
  else if (o.service === 't' || o.service === 'seq' || o.service.startsWith('epoch')) problems.push(`service "${o.service}" collides with the cache's own key names (t, seq, epoch)`);
  const seconds = (v: number | undefined, name: string, dflt: number, min = 0) => check(v, name, dflt, min, problems, 's') * 1000;
  const millis = (v: number | undefined, name: string, dflt: number, min = 0) => check(v, name, dflt, min, problems, 'ms');
  const count = (v: number | undefined, name: string, dflt: number) => Math.floor(check(v, name, dflt, 1, problems, 'count'));
  const resolved: ResolvedCacheOptions = {
    service: o.service,
    redisUrl: o.redisUrl?.trim() ? o.redisUrl.trim() : undefined,
    redis: o.redis,
    store: o.store,
    schema: o.schema,
    schemaVersion: o.schemaVersion,
    database: o.database,
    rawWrites: o.rawWrites ?? 'invalidate-service',
    keyPrefix: o.keyPrefix ?? 'vh:cache:',
    ttlMs: seconds(o.defaults?.ttl, 'defaults.ttl', 60, 0.001),
    swrMs: seconds(o.defaults?.swr, 'defaults.swr', 0),
    models: o.models ?? {},
    timeoutMs: millis(o.timeoutMs, 'timeoutMs', 50, 1),
    failureThreshold: count(o.circuit?.failureThreshold, 'circuit.failureThreshold', 5),
    openMs: millis(o.circuit?.openMs, 'circuit.openMs', 1_000, 1),
    leaseMs: millis(o.leaseMs, 'leaseMs', 2_000, 1),
    leaseWaitMs: millis(o.leaseWaitMs, 'leaseWaitMs', 250),
    genTtlMs: seconds(o.generationTtl, 'generationTtl', 86_400, 1),
    maxPending: count(o.maxPendingInvalidations, 'maxPendingInvalidations', 10_000),
    lateInvalidationMs: millis(o.lateInvalidationMs, 'lateInvalidationMs', 6_000),
    local: localOptions(o.local, problems),
    onError: o.onError && safeOnError(o.onError, redisUrlSecrets(o.redisUrl)),
  };
  if (resolved.local !== undefined && (o.store !== undefined || o.redis !== undefined)) problems.push('local needs redisUrl (the tier opens its own tracking connection), not an injected redis or store');
  if (o.database !== undefined && (typeof o.database !== 'string' || o.database.length === 0)) problems.push('database must be a non-empty string');
  if (o.rawWrites !== undefined && o.rawWrites !== 'invalidate-service' && o.rawWrites !== 'ignore') problems.push(`rawWrites must be 'invalidate-service' or 'ignore', got ${JSON.stringify(o.rawWrites)}`);
  if (o.schemaVersion !== undefined && !/^[\w.-]{1,64}$/.test(o.schemaVersion)) problems.push('schemaVersion must be 1-64 characters of [A-Za-z0-9_.-]');
  if (o.redisUrl?.trim() && !/^rediss?:\/\//.test(o.redisUrl.trim())) problems.push('redisUrl must start with redis:// or rediss://');
  for (const [model, p] of Object.entries(resolved.models)) {
    check(p.ttl, `models.${model}.ttl`, 1, 0.001, problems, 's');
    check(p.swr, `models.${model}.swr`, 0, 0, problems, 's');
    if (p.local !== undefined && typeof p.local !== 'boolean') problems.push(`models.${model}.local must be true or false`);
    if (p.invalidates !== undefined && typeof p.invalidates !== 'function') problems.push(`models.${model}.invalidates must be a function`);
  }
  if (problems.length > 0) throw invalid(problems);
  return Object.freeze(resolved);
}

/** Model names in `models` must exist in the schema; checked when the extension meets its client. */
export function checkModelNames(models: Readonly<Record<string, unknown>>, known: Iterable<string>, service: string): void {
  const names = new Set(known);
  const unknown = Object.keys(models).filter((m) => !names.has(m));
  if (unknown.length > 0) {
    throw invalid(unknown.map((m) => `models.${m}: no model ${m} in the ${service} schema (models: ${[...names].join(', ')})`));
  }
}

/** The per-query read option, validated; undefined when the query does not ask for caching. */
export function readOption(opt: unknown, where: string): Exclude<ReadCacheOption, boolean> | undefined {
  if (opt === undefined || opt === false) return undefined;
  if (opt === true) return {};
  const problems: string[] = [];
  if (opt === null || typeof opt !== 'object') problems.push(`${where}: cache must be true, false or { ttl, swr, tags, local }`);
  else {
    const o = opt as Record<string, unknown>;
    for (const k of Object.keys(o)) if (!['ttl', 'swr', 'tags', 'local'].includes(k)) problems.push(`${where}: unknown cache option "${k}"`);
    if (o.local !== undefined && typeof o.local !== 'boolean') problems.push(`${where}: cache.local must be true or false`);
    if (o.ttl !== undefined) check(o.ttl as number, `${where}: cache.ttl`, 1, 0.001, problems, 's');
    if (o.swr !== undefined) check(o.swr as number, `${where}: cache.swr`, 0, 0, problems, 's');
    if (o.tags !== undefined) tagList(o.tags, `${where}: cache.tags`, problems);
  }
  if (problems.length > 0) throw invalid(problems);
  return opt as Exclude<ReadCacheOption, boolean>;
}

/** The tags of a per-query write option, validated. */
export function writeTags(opt: unknown, where: string): readonly string[] {
  if (opt === undefined) return [];
  const problems: string[] = [];
  if (opt === null || typeof opt !== 'object' || Object.keys(opt).some((k) => k !== 'tags')) {
    problems.push(`${where}: cache on a write must be { tags: [...] }`);
  }
  const tags = tagList((opt as { tags?: unknown } | null)?.tags ?? [], `${where}: cache.tags`, problems);
  if (problems.length > 0) throw invalid(problems);
  return tags;
}

/** `onError` as given, but never handed a Redis password (see redactRedisError). */
function safeOnError(onError: (error: Error) => void, secrets: readonly string[]): (error: Error) => void {
  return (error) => onError(redactRedisError(error instanceof Error ? error : new Error(String(error)), secrets));
}

function localOptions(v: CacheExtensionOptions['local'], problems: string[]): ResolvedCacheOptions['local'] {
  if (v === undefined || v === false) return undefined;
  const o = v === true ? {} : v;
  if (o === null || typeof o !== 'object') {
    problems.push('local must be true, false or { maxEntries, ttl, heartbeatMs }');
    return undefined;
  }
  return {
    maxEntries: Math.floor(check(o.maxEntries, 'local.maxEntries', 10_000, 1, problems, 'count')),
    ttlMs: check(o.ttl, 'local.ttl', 5, 0.001, problems, 's') * 1000,
    heartbeatMs: check(o.heartbeatMs, 'local.heartbeatMs', 1_000, 50, problems, 'ms'),
  };
}

function tagList(v: unknown, name: string, problems: string[]): readonly string[] {
  if (!Array.isArray(v) || v.some((t) => typeof t !== 'string' || t.length === 0 || t.length > 200)) {
    problems.push(`${name} must be an array of non-empty strings (at most 200 characters)`);
    return [];
  }
  return v as string[];
}

function check(v: number | undefined, name: string, dflt: number, min: number, problems: string[], unit: string): number {
  if (v === undefined) return dflt;
  if (typeof v !== 'number' || !Number.isFinite(v) || v < min) {
    problems.push(`${name} must be a number >= ${min} (${unit}), got ${JSON.stringify(v)}`);
    return dflt;
  }
  return v;
}

function invalid(problems: readonly string[]): VendhubError {
  return new VendhubError('CONFIG_INVALID', `Invalid cache configuration:\n  - ${problems.join('\n  - ')}`, {
    details: { problems },
    hint: 'Fix the cache options (see src/cache/README.md).',
  });
}
