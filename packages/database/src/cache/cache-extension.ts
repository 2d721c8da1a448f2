import { Prisma } from '@prisma/client/extension';
import type { JsArgs, ModelQueryOptionsCbArgs } from '@prisma/client/runtime/client';
import { VendhubError } from '../errors/vendhub-error.ts';
import { CacheKeys } from './cache-keys.ts';
import type { CacheStats } from './cache-metrics.ts';
import { checkModelNames, readOption, resolveCacheOptions, writeTags, type CacheExtensionOptions, type ReadCacheOption, type ResolvedCacheOptions } from './cache-options.ts';
import type { CachedModelMethods } from './cached-model-methods.ts';
import { cachedReadMethods } from './cached-read-methods.ts';
import { canonicalArgs } from './canonical-args.ts';
import { DependencyPlanner, type WriteEvent } from './dependency-planner.ts';
import { inlineSchemaOf, transactionIdOfClient, transactionOf } from './prisma-internals.ts';
import { LocalTier } from './local-tier.ts';
import { QueryCache, type CacheHealth, type ReadSpec } from './query-cache.ts';
import { RedisCacheStore } from './redis-cache-store.ts';
import { openRedis } from './redis-connection.ts';
import { parseSchemaCatalog } from './schema-catalog.ts';
import { TransactionScope } from './transaction-scope.ts';

/** `client.$cache`: what a service (or its metrics exporter) can ask the cache. */
export interface CacheHandle {
  /** Counters and state, as a plain object. */
  stats(): CacheStats;
  /** Pings Redis (bounded by the timeout) and delivers waiting invalidations; never throws. */
  health(): Promise<CacheHealth>;
  /** Invalidates reads tagged with any of `tags`, e.g. after a change made outside Prisma. */
  invalidateTags(tags: readonly string[]): Promise<void>;
  /** Invalidates every cached read of these models, e.g. after raw SQL. */
  invalidateModels(models: readonly string[]): Promise<void>;
  /** Idempotent: releases the Redis connection the cache opened itself (never an injected one). */
  close(): Promise<void>;
}

type ReadOptionObject = Exclude<ReadCacheOption, boolean>;

const READS = new Set(['findUnique', 'findUniqueOrThrow', 'findFirst', 'findFirstOrThrow', 'findMany', 'count']);
const WRITES = new Set(['create', 'createMany', 'createManyAndReturn', 'update', 'updateMany', 'updateManyAndReturn', 'upsert', 'delete', 'deleteMany']);
const ROW_RESULTS = new Set(['create', 'update', 'upsert', 'delete']);

type QueryParams = ModelQueryOptionsCbArgs;

/** Distinct reads whose keys are kept computed (about 0.5 kB each). */
const PLACEMENTS_KEPT = 10_000;

/**
 * A Prisma Client extension that caches opted-in reads in Redis and invalidates them on writes.
 * Works on any generated client. Reads opt in with `cache: true | { ttl, swr, tags }`; writes
 * invalidate automatically (after commit inside transactions) and may name extra tags with
 * `cache: { tags }`. Without a Redis (`redisUrl` unset) it passes everything through and
 * `$cache.health()` reports `off`. See src/cache/README.md for the guarantees.
 *
 * @example
 *   const prisma = new PrismaClient({ adapter }).$extends(createCacheExtension({
 *     service: 'inventory',
 *     redisUrl: process.env.REDIS_URL,
 *     models: { MachineInventory: { ttl: 30, invalidates: ({ rows }) => rows?.map((r) => `machine:${r.machineId}:inventory`) ?? [] } },
 *   }));
 *   await prisma.inventoryItem.findUnique({ where: { id }, cache: { ttl: 300 } });
 *   prisma.$cache.stats(); // { hits, misses, staleServed, coalescedWaits, redisErrors, circuit, ... }
 *
 * The same handle as `client.$cache` is `createCacheExtension(...).cache`.
 */
export function createCacheExtension(options: CacheExtensionOptions) {
  const opts = resolveCacheOptions(options);
  const keys = new CacheKeys(opts.keyPrefix, opts.service);
  const cache = openQueryCache(opts, keys);
  const handle: CacheHandle = {
    stats: () => {
      const s = cache.stats();
      const p = options.pool;
      return p ? { ...s, pool: { total: p.totalCount, idle: p.idleCount, waiting: p.waitingCount } } : s;
    },
    health: () => cache.health(),
    invalidateTags: (tags) => cache.invalidate(tags.map((t) => keys.tag(t))),
    invalidateModels: (models) => cache.invalidate(models.flatMap((m) => [keys.list(m), keys.anyUnique(m)])),
    close: () => cache.close(),
  };

  const extension = Prisma.defineExtension((client) => {
    const schema = opts.schema ?? inlineSchemaOf(client);
    if (schema === undefined) {
      throw new VendhubError('CONFIG_INVALID', `cache for service ${opts.service}: no schema given and the client carries none`, {
        hint: 'Pass schema: readFileSync(<service>/schema.prisma) to createCacheExtension.',
      });
    }
    const catalog = parseSchemaCatalog(schema);
    checkModelNames(opts.models, catalog.models.keys(), opts.service);
    const version = opts.schemaVersion ?? catalog.version;
    const planner = new DependencyPlanner(catalog, keys);
    const scope = new TransactionScope();
    const parentTransaction = (client as unknown as { $transaction: (...a: unknown[]) => Promise<unknown> }).$transaction;
    const late = lateInvalidation(cache, opts.lateInvalidationMs);

    // Where a read's entry lives and what it depends on, by its canonical text: computed once per
    // distinct read, not on every hit. Bounded; the oldest go first.
    const placements = new Map<string, Pick<ReadSpec, 'entryKey' | 'leaseKey' | 'genKeys'>>();
    const readSpec = (model: string, operation: string, args: Record<string, unknown>, o: ReadOptionObject | undefined): ReadSpec | undefined => {
      const policy = opts.models[model];
      if (o === undefined || policy?.enabled === false) return undefined;
      const canonical = canonicalArgs(args);
      if (canonical === undefined) return undefined;
      const memo = `${model}:${operation}:${o.tags === undefined ? '' : JSON.stringify(o.tags)}:${canonical}`;
      let placed = placements.get(memo);
      if (placed === undefined) {
        const tags = [...new Set(o.tags ?? [])].sort();
        const entryKey = keys.entry(version, model, operation, tags.length === 0 ? canonical : `${canonical}|${JSON.stringify(tags)}`);
        placed = { entryKey, leaseKey: keys.lease(entryKey), genKeys: planner.readKeys(model, operation, args, tags) };
        if (placements.size >= PLACEMENTS_KEPT) placements.delete(placements.keys().next().value as string);
        placements.set(memo, placed);
      }
      return {
        entryKey: placed.entryKey,
        leaseKey: placed.leaseKey,
        genKeys: placed.genKeys,
        ttlMs: (o.ttl ?? policy?.ttl ?? opts.ttlMs / 1000) * 1000,
        swrMs: (o.swr ?? policy?.swr ?? opts.swrMs / 1000) * 1000,
        local: o.local ?? policy?.local ?? false,
      };
    };

    const writeKeys = (model: string, operation: string, args: Record<string, unknown>, result: unknown, extraTags: readonly string[]): string[] => {
      const tags = [...extraTags];
      const rule = opts.models[model]?.invalidates;
      if (rule) {
        try {
          tags.push(...rule({ model, operation, args, rows: rowsOf(operation, args, result) } satisfies WriteEvent));
        } catch (e) {
          // A broken rule must not fail a committed write: flush every cached read instead (its tags may cross services).
          opts.onError?.(e instanceof Error ? e : new Error(String(e)));
          return [...planner.writeKeys(model, operation, args, result, tags), keys.epoch];
        }
      }
      return planner.writeKeys(model, operation, args, result, tags);
    };

    async function onOperation(params: QueryParams): Promise<unknown> {
      const { model, operation, query } = params;
      const isRead = READS.has(operation);
      if (model === undefined || (!isRead && !WRITES.has(operation))) return query(params.args);
      const { cache: opt, ...args } = (params.args ?? {}) as JsArgs & { cache?: unknown };
      const tx = transactionOf(params);
      // Options are checked whether or not Redis is configured, so a mistake shows up in development too.
      const where = `${model}.${operation}`;
      if (isRead) {
        const o = readOption(opt, where);
        // Inside a transaction a read must see the transaction's own writes; a cached answer would
        // also break Prisma's batch, which waits for every request it was given.
        const spec = !cache.enabled || tx ? undefined : readSpec(model, operation, args, o);
        return spec ? cache.read(spec, () => query(args)) : query(args);
      }
      const extraTags = writeTags(opt, where);
      const result = await query(args);
      if (!cache.enabled) return result;
      const invalidate = writeKeys(model, operation, args, result, extraTags);
      if (!tx) await cache.invalidate(invalidate);
      else if (scope.defer(`${tx.kind}:${tx.id}`, invalidate)) return result;
      // Not started through this client's `$transaction`. A batch answers only after it ended, but
      // maybe with a rollback: invalidating then costs misses, never stale data.
      else if (tx.kind === 'batch') await cache.invalidate(invalidate);
      else await late(invalidate);
      return result;
    }

    const transactionOverride = {
      /** Interactive transactions run in a scope that holds their invalidations until commit. */
      $transaction(this: unknown, arg: unknown, txOptions?: unknown) {
        const nestedIn = transactionIdOfClient(this);
        const deliver = (collected: readonly string[]) => cache.invalidate(collected);
        if (typeof arg !== 'function') {
          if (nestedIn !== undefined) return parentTransaction.call(this, arg, txOptions);
          return scope.run(() => parentTransaction.call(this, arg, txOptions), undefined, deliver);
        }
        const fn = arg as (tx: unknown) => Promise<unknown>;
        const start = (onStart: (id: string | undefined) => void) =>
          parentTransaction.call(
            this,
            (tx: unknown) => {
              const id = transactionIdOfClient(tx);
              onStart(id === undefined ? undefined : `itx:${id}`);
              return fn(tx);
            },
            txOptions,
          );
        return scope.run(start, nestedIn === undefined ? undefined : `itx:${nestedIn}`, deliver);
      },
    };

    return client.$extends({
      name: `vendhub-cache:${opts.service}`,
      // `$transaction` is replaced at run time but typed as `{}` so the client keeps Prisma's own
      // (overloaded, generic) `$transaction` type.
      client: { $cache: handle, ...(transactionOverride as {}) },
      // The reads run here, outside Prisma's query pipeline (see cached-read-methods.ts); the types
      // (CachedModelMethods) add `cache` to every model method's arguments, writes included.
      model: { $allModels: cachedReadMethods({ cache, readSpec, isClosed: options.isClosed }) as unknown as CachedModelMethods },
      query: { $allModels: { $allOperations: onOperation } },
    });
  });
  // The handle is also on the extension itself, so a client factory can reach it (to close it or
  // to export its stats) from code that runs before or outside the extended client.
  return Object.assign(extension, { cache: handle });
}

function openQueryCache(opts: ResolvedCacheOptions, keys: CacheKeys): QueryCache {
  const common = {
    service: opts.service,
    seqKey: keys.seq,
    epochKey: keys.epoch,
    timeoutMs: opts.timeoutMs,
    failureThreshold: opts.failureThreshold,
    openMs: opts.openMs,
    leaseMs: opts.leaseMs,
    leaseWaitMs: opts.leaseWaitMs,
    genTtlMs: opts.genTtlMs,
    maxPending: opts.maxPending,
    onError: opts.onError,
  };
  if (opts.store) return new QueryCache({ ...common, store: opts.store, offReason: '' });
  if (opts.redis) return new QueryCache({ ...common, store: new RedisCacheStore(opts.redis), offReason: '' });
  if (opts.redisUrl === undefined) return new QueryCache({ ...common, store: undefined, offReason: 'REDIS_URL is not set' });
  const redis = openRedis(opts.redisUrl, { commandTimeoutMs: opts.timeoutMs, onError: opts.onError });
  const release = async () => {
    await redis.quit().catch(() => redis.disconnect());
  };
  const local = opts.local && new LocalTier({ url: opts.redisUrl, prefixes: keys.generationPrefixes(), connectionName: `vh-cache-local:${opts.keyPrefix.replace(/[^\w:.-]/g, '_')}${opts.service}`, ...opts.local, onError: opts.onError });
  return new QueryCache({ ...common, store: new RedisCacheStore(redis), offReason: '', release, local });
}

/** For writes in a transaction the scope does not know: invalidate now, and again once it must have ended. */
function lateInvalidation(cache: QueryCache, delayMs: number) {
  return async (keys: readonly string[]) => {
    cache.countUntrackedTransactionWrite();
    await cache.invalidate(keys);
    setTimeout(() => void cache.invalidate(keys), delayMs).unref();
  };
}

function rowsOf(operation: string, args: Record<string, unknown>, result: unknown): WriteEvent['rows'] {
  const asRows = (v: unknown) => (Array.isArray(v) ? v : v === null || v === undefined ? [] : [v]) as Record<string, unknown>[];
  if (ROW_RESULTS.has(operation)) return asRows(result);
  if (operation.endsWith('AndReturn')) return asRows(result);
  if (operation === 'createMany') return asRows(args.data);
  return undefined;
}
