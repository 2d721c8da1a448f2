import { Prisma } from '@prisma/client/extension';
import type { JsArgs, ModelQueryOptionsCbArgs, QueryOptionsCbArgs } from '@prisma/client/runtime/client';
import { VendhubError } from '../errors/vendhub-error.ts';
import { CacheKeys } from './cache-keys.ts';
import type { CacheStats } from './cache-metrics.ts';
import { checkModelNames, readOption, resolveCacheOptions, writeTags, type CacheExtensionOptions, type ReadCacheOption, type ResolvedCacheOptions } from './cache-options.ts';
import type { CachedModelMethods } from './cached-model-methods.ts';
import { canonicalArgs, digest } from './canonical-args.ts';
import { DependencyPlanner, type WriteEvent } from './dependency-planner.ts';
import { callbacksAfter, connectionIdentity, databaseIdentityOf, globalOmitOf, inlineSchemaOf, transactionIdOfClient, transactionOf, type TransactionRef } from './prisma-internals.ts';
import { LocalTier } from './local-tier.ts';
import { QueryCache, type CacheHealth, type ReadSpec } from './query-cache.ts';
import { RedisCacheStore } from './redis-cache-store.ts';
import { openRedis } from './redis-connection.ts';
import { parseSchemaCatalog } from './schema-catalog.ts';
import { TransactionScope } from './transaction-scope.ts';
import { encodeValue } from './value-codec.ts';
import { runWithRows, type RowReader } from './write-rows.ts';

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
  // Keys shared by every database (sequence, epoch, tags); each client the extension is applied
  // to gets the keys of its own database (see `namespaces`).
  const shared = new CacheKeys(opts.keyPrefix, opts.service, '');
  const cache = openQueryCache(opts, shared);
  const namespaces = new Map<string, CacheKeys>();
  const handle: CacheHandle = {
    stats: () => {
      const s = cache.stats();
      const p = options.pool;
      return p ? { ...s, pool: { total: p.totalCount, idle: p.idleCount, waiting: p.waitingCount } } : s;
    },
    health: () => cache.health(),
    invalidateTags: (tags) => cache.invalidate(tags.map((t) => shared.tag(t))),
    invalidateModels: (models) => cache.invalidate([...namespaces.values()].flatMap((k) => models.flatMap((m) => [k.list(m), k.anyUnique(m)]))),
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
    // The client's global omit shapes every result without appearing in the arguments: part of the entries' namespace.
    const globalOmit = globalOmitOf(client);
    const version = (opts.schemaVersion ?? catalog.version) + (globalOmit === undefined ? '' : `-o${digest(canonicalArgs(globalOmit) ?? String(Math.random())).slice(0, 10)}`);
    const database = opts.database ?? databaseIdentityOf(client) ?? connectionIdentity((options.pool as { options?: unknown } | undefined)?.options) ?? 'unknown-database';
    const keys = new CacheKeys(opts.keyPrefix, opts.service, database);
    namespaces.set(database, keys);
    const planner = new DependencyPlanner(catalog, keys);
    const scope = new TransactionScope();
    const parentTransaction = (client as unknown as { $transaction: (...a: unknown[]) => Promise<unknown> }).$transaction;
    const late = lateInvalidation(cache, opts.lateInvalidationMs);
    // The tx clients of interactive transactions started through this client, by id: a write's
    // rows are read inside its own transaction.
    const txClients = new Map<string, unknown>();

    // Where a read's entry lives and what it depends on, by its canonical text: computed once per
    // distinct read, not on every hit (null: its dependencies cannot be derived). Bounded; the oldest go first.
    const placements = new Map<string, Placement | null>();
    const readSpec = (model: string, operation: string, args: Record<string, unknown>, o: ReadOptionObject): (ReadSpec & { readonly canonical: string }) | undefined => {
      const policy = opts.models[model];
      if (policy?.enabled === false) return undefined;
      const canonical = canonicalArgs(args);
      const tags = o.tags === undefined ? undefined : [...new Set(o.tags)].sort();
      if (canonical === undefined) return uncacheable();
      const text = tags === undefined || tags.length === 0 ? canonical : `${canonical}|${canonicalArgs(tags)}`;
      const memo = `${model}\n${operation}\n${text}`;
      let placed = placements.get(memo);
      if (placed === undefined) {
        const genKeys = planner.readKeys(model, operation, args, tags ?? []);
        const entryKey = keys.entry(version, model, operation, text);
        placed = genKeys === undefined ? null : { entryKey, leaseKey: keys.lease(entryKey), genKeys, canonical };
        if (placements.size >= PLACEMENTS_KEPT) placements.delete(placements.keys().next().value as string);
        placements.set(memo, placed);
      }
      if (placed === null) return uncacheable();
      return {
        entryKey: placed.entryKey,
        leaseKey: placed.leaseKey,
        genKeys: placed.genKeys,
        canonical: placed.canonical,
        ttlMs: (o.ttl ?? policy?.ttl ?? opts.ttlMs / 1000) * 1000,
        swrMs: (o.swr ?? policy?.swr ?? opts.swrMs / 1000) * 1000,
        local: o.local ?? policy?.local ?? false,
      };
    };
    const uncacheable = (): undefined => {
      cache.countUncacheable();
      return undefined;
    };

    // Models with an `invalidates` rule: a write reaching one of them only through a nested write or a
    // cascade gives its rule no rows, so its tags are unknown; every cached read is flushed instead.
    const ruled = Object.keys(opts.models).filter((m) => opts.models[m]?.invalidates !== undefined);
    const writeKeys = (model: string, operation: string, args: Record<string, unknown>, result: unknown, rows: WriteEvent['rows'], extraTags: readonly string[]): string[] => {
      const planned = plannedKeys(model, operation, args, result, rows, extraTags);
      if (ruled.some((m) => m !== model && planned.includes(keys.list(m)))) planned.push(keys.epoch);
      return planned;
    };
    const plannedKeys = (model: string, operation: string, args: Record<string, unknown>, result: unknown, rows: WriteEvent['rows'], extraTags: readonly string[]): string[] => {
      const tags = [...extraTags];
      const rule = opts.models[model]?.invalidates;
      if (rule) {
        try {
          tags.push(...rule({ model, operation, args, rows } satisfies WriteEvent));
        } catch (e) {
          // A broken rule must not fail a committed write: flush every cached read instead (its tags may cross services).
          opts.onError?.(e instanceof Error ? e : new Error(String(e)));
          return [...planner.writeKeys(model, operation, args, result, tags), keys.epoch];
        }
      }
      return planner.writeKeys(model, operation, args, result, tags);
    };

    /** Delivers a write's invalidation now, or at its transaction's commit. */
    const deliver = async (invalidate: string[], tx: TransactionRef | undefined): Promise<void> => {
      if (!tx) await cache.invalidate(invalidate);
      else if (scope.defer(`${tx.kind}:${tx.id}`, invalidate)) return;
      // Not started through this client's `$transaction`. A batch answers only after it ended, but
      // maybe with a rollback: invalidating then costs misses, never stale data.
      else if (tx.kind === 'batch') await cache.invalidate(invalidate);
      else await late(invalidate);
    };

    const rowReader = (model: string, tx: TransactionRef | undefined): RowReader => {
      const on = (tx?.kind === 'itx' ? txClients.get(tx.id) : undefined) ?? client;
      return (on as unknown as Record<string, RowReader>)[delegateName(model)]!;
    };

    async function onOperation(this: unknown, params: QueryParams): Promise<unknown> {
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
        if (o === undefined || !cache.enabled || tx || options.isClosed?.()) return query(args);
        // A query extension applied after the cache runs below it: on a hit it would not run at
        // all, and what it does may depend on its caller (a tenant filter, a mask). Not cached.
        if (callbacksAfter(this, onOperation) === true) return (cache.countUncacheable(), query(args));
        const spec = readSpec(model, operation, args, o);
        if (!spec) return query(args);
        // Set up on a miss only: a hit creates nothing beyond these two closures.
        let below: Watch | undefined;
        const load = () => {
          below = watchBelow(params);
          return query(args);
        };
        return cache.read(spec, load, (payload) => below !== undefined && below.unchanged(spec.canonical, payload));
      }
      const extraTags = writeTags(opt, where);
      if (!cache.enabled) return query(args);
      const info = catalog.models.get(model);
      let result: unknown;
      let rows: WriteEvent['rows'];
      if (opts.models[model]?.invalidates && info) {
        ({ result, rows } = await runWithRows(info, operation, args, rowReader(model, tx), () => query(args)));
      } else {
        result = await query(args);
      }
      await deliver(writeKeys(model, operation, args, result, rows, extraTags), tx);
      return result;
    }

    /** Raw statements may write anything in the service's schema: every model's keys are bumped once it returned. */
    async function onRawWrite(params: QueryOptionsCbArgs): Promise<unknown> {
      const result = await params.query(params.args);
      if (cache.enabled && opts.rawWrites === 'invalidate-service') {
        // A model with an `invalidates` rule may have had rows moved between tags nobody can name: flush everything.
        await deliver(ruled.length > 0 ? [...planner.serviceKeys(), keys.epoch] : planner.serviceKeys(), transactionOf(params));
      }
      return result;
    }

    const transactionOverride = {
      /** Interactive transactions run in a scope that holds their invalidations until commit. */
      $transaction(this: unknown, arg: unknown, txOptions?: unknown) {
        const nestedIn = transactionIdOfClient(this);
        const deliverAll = (collected: readonly string[]) => cache.invalidate(collected);
        if (typeof arg !== 'function') {
          if (nestedIn !== undefined) return parentTransaction.call(this, arg, txOptions);
          return scope.run(() => parentTransaction.call(this, arg, txOptions), undefined, deliverAll);
        }
        const fn = arg as (tx: unknown) => Promise<unknown>;
        const start = (onStart: (id: string | undefined) => void) =>
          parentTransaction.call(
            this,
            async (tx: unknown) => {
              const id = transactionIdOfClient(tx);
              onStart(id === undefined ? undefined : `itx:${id}`);
              const owned = id !== undefined && !txClients.has(id);
              if (owned) txClients.set(id, tx);
              try {
                return await fn(tx);
              } finally {
                if (owned) txClients.delete(id);
              }
            },
            txOptions,
          );
        return scope.run(start, nestedIn === undefined ? undefined : `itx:${nestedIn}`, deliverAll);
      },
    };

    return client.$extends({
      name: `vendhub-cache:${opts.service}`,
      // `$transaction` is replaced at run time but typed as `{}` so the client keeps Prisma's own
      // (overloaded, generic) `$transaction` type.
      client: { $cache: handle, ...(transactionOverride as {}) },
      // Types only: `cache` on every model method's arguments. At run time the methods are
      // Prisma's own, so every call goes through Prisma's pipeline (result extensions, query
      // extensions before and after this one); the query component below reads and strips `cache`.
      model: { $allModels: {} as unknown as CachedModelMethods },
      query: {
        $allModels: { $allOperations: onOperation },
        $executeRaw: onRawWrite,
        $executeRawUnsafe: onRawWrite,
      },
    });
  });
  // The handle is also on the extension itself, so a client factory can reach it (to close it or
  // to export its stats) from code that runs before or outside the extended client.
  return Object.assign(extension, { cache: handle });
}

interface Placement {
  readonly entryKey: string;
  readonly leaseKey: string;
  readonly genKeys: readonly string[];
  readonly canonical: string;
}

/**
 * Watches what happens below this extension for one read: the arguments that reach Prisma's engine
 * (after every query extension applied after the cache) and the result it returned (before they
 * see it). An entry is stored only if both are what the cache saw: a query extension applied after
 * the cache that rewrites arguments or results (a tenant filter, a masking step) makes the read
 * uncacheable instead of storing one caller's answer under another's key.
 */
interface Watch {
  unchanged(canonical: string, payload: string): boolean;
}

function watchBelow(params: QueryParams): Watch {
  const internal = (params as { __internalParams?: InternalParams }).__internalParams;
  if (internal === undefined) return { unchanged: () => false };
  let reached: string | undefined;
  let returned: string | undefined;
  const mapArgs = internal.argsMapper;
  const unpack = internal.unpacker;
  internal.argsMapper = (a: unknown) => {
    reached = canonicalArgs(a);
    return mapArgs ? mapArgs(a) : a;
  };
  internal.unpacker = (r: unknown) => {
    const out = unpack ? unpack(r) : r;
    try {
      returned = encodeValue(out);
    } catch {
      returned = undefined;
    }
    return out;
  };
  return { unchanged: (canonical, payload) => reached === canonical && returned === payload };
}

interface InternalParams {
  argsMapper?: (a: unknown) => unknown;
  unpacker?: (r: unknown) => unknown;
}

const delegateNames = new Map<string, string>();
function delegateName(model: string): string {
  let name = delegateNames.get(model);
  if (name === undefined) delegateNames.set(model, (name = model.charAt(0).toLowerCase() + model.slice(1)));
  return name;
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

