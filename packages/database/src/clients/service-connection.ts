import type pg from 'pg';
import { PrismaPg } from '@prisma/adapter-pg';
import { Prisma } from '@prisma/client/extension';
import { loadServiceConfig, type Env, type ServiceConfig } from '../config/database-config.ts';
import type { PoolOverrides } from '../config/connection-url.ts';
import { redactText } from '../config/redact.ts';
import { secretOf } from '../db/database-handle.ts';
import { withDatabase } from '../db/with-database.ts';
import { wrapPgError } from '../errors/pg-errors.ts';
import { VendhubError } from '../errors/vendhub-error.ts';
import { compareHistory, readHistory, type MigrationStatus } from '../migrate/migration-status.ts';
import { createServicePool, poolCounts, type PoolCounts } from '../pool/create-pool.ts';
import { createCacheExtension, type CacheHandle } from '../cache/cache-extension.ts';
import type { CacheExtensionOptions } from '../cache/cache-options.ts';
import type { CacheHealth } from '../cache/query-cache.ts';
import { CACHE_POLICIES } from './cache-policies.ts';
import { foreignModelGuards } from './foreign-model-guard.ts';
import type { ServiceName } from '../services.ts';

export interface ServiceClientOptions {
  /** Environment to read `<SERVICE>_DATABASE_URL` / `DATABASE_URL` from. Default: process.env. */
  env?: Env;
  /** Explicit pool settings; they override URL parameters such as connection_limit. */
  pool?: PoolOverrides;
  /** Use this pool instead of creating one; `close()` then leaves it open (it is not ours). */
  pgPool?: pg.Pool;
  /**
   * Redis cache settings over the defaults (REDIS_URL from `env`, the per-model policies of
   * cache-policies.ts). Unset REDIS_URL: the cache is off and `health().cache` says so.
   */
  cache?: Partial<Omit<CacheExtensionOptions, 'service'>>;
}

export interface ServiceHealth {
  readonly service: ServiceName;
  readonly schema: string;
  readonly database: string;
  readonly reachable: boolean;
  readonly latencyMs: number | undefined;
  readonly migrations: Pick<MigrationStatus, 'current' | 'pending' | 'failed' | 'checksumChanged' | 'unknown'> | undefined;
  readonly pool: PoolCounts;
  readonly cache: CacheHealth;
  readonly error: string | undefined;
}

/** Everything a service client needs besides its generated PrismaClient class. */
export interface ServiceConnection {
  readonly config: ServiceConfig;
  readonly pool: pg.Pool;
  readonly adapter: PrismaPg;
  /**
   * Options for the generated PrismaClient: the adapter, and an interactive-transaction wait as
   * long as the pool's own (Prisma's 2 s default would fail transactions the pool would serve).
   */
  readonly prismaOptions: { adapter: PrismaPg; transactionOptions: { maxWait: number }; errorFormat: 'minimal' };
  /** The service's Redis cache extension; `cacheExtension.cache` is the handle (stats, health). */
  readonly cacheExtension: ReturnType<typeof createCacheExtension>;
  health(): Promise<ServiceHealth>;
}

/**
 * Resolves a service's config from the environment and opens its pool and Prisma adapter. The
 * adapter is given the service's schema, so one generated client works in a shared database
 * (option 1), a database of its own (option 2) or any mix.
 */
export function openServiceConnection(service: ServiceName, opts: ServiceClientOptions = {}): ServiceConnection & { ownsPool: boolean } {
  const config = loadServiceConfig(service, opts.env ?? process.env, opts.pool);
  const pool = opts.pgPool ?? createServicePool(config);
  const adapter = new PrismaPg(pool, { schema: config.service.schema });
  const env = opts.env ?? process.env;
  const cacheExtension = createCacheExtension({
    service,
    redisUrl: env.REDIS_URL,
    models: CACHE_POLICIES[service],
    pool,
    ...opts.cache,
  });
  const cache = cacheExtension.cache;
  return {
    config,
    pool,
    adapter,
    // errorFormat 'minimal': Prisma's pretty error rendering costs ~50 µs on every query.
    prismaOptions: { adapter, transactionOptions: { maxWait: Number(config.connection.pool.connectionTimeoutMillis) }, errorFormat: 'minimal' },
    cacheExtension,
    ownsPool: opts.pgPool === undefined,
    health: () => checkHealth(config, pool, cache),
  };
}

async function checkHealth(config: ServiceConfig, pool: pg.Pool, cacheHandle: CacheHandle): Promise<ServiceHealth> {
  const base = { service: config.service.name, schema: config.service.schema, database: config.connection.databaseKey };
  const label = `${config.service.name} service database ${config.connection.databaseKey}`;
  const password = secretOf(config.connection);
  const secrets = password ? [password] : [];
  const started = performance.now();
  try {
    return await withDatabase({ pool, label, secrets }, async (client) => {
      await client.query('SELECT 1');
      const latencyMs = Math.round((performance.now() - started) * 10) / 10;
      const s = compareHistory(config, await readHistory(client, config.service.schema));
      const cache = await cacheHandle.health();
      const migrations = { current: s.current, pending: s.pending, failed: s.failed, checksumChanged: s.checksumChanged, unknown: s.unknown };
      return { ...base, reachable: true, latencyMs, migrations, pool: poolCounts(pool), cache, error: undefined };
    });
  } catch (e) {
    const err = wrapPgError(e, label, secrets);
    const cache = await cacheHandle.health();
    return { ...base, reachable: false, latencyMs: undefined, migrations: undefined, pool: poolCounts(pool), cache, error: err.message };
  }
}

/**
 * The lifecycle part every service client shares: `health()` (database, migrations, pool, cache),
 * an idempotent `close()` that ends only what the client opened (cache connection, then pool), a refusal to run queries after close, and pool exhaustion reported as a
 * clear POOL_TIMEOUT error instead of a generic driver error.
 */
export function lifecycleExtension(conn: ServiceConnection & { ownsPool: boolean }) {
  let closing: Promise<void> | undefined;
  const name = conn.config.service.name;
  return Prisma.defineExtension((client) =>
    client.$extends({
      name: `vendhub-${name}-lifecycle`,
      client: {
        // Typed as nothing: TypeScript callers keep their compile error; JavaScript gets a clear one.
        ...(foreignModelGuards(name) as {}),
        health: () => conn.health(),
        close(): Promise<void> {
          closing ??= (async () => {
            await conn.cacheExtension.cache.close();
            await (client as unknown as { $disconnect(): Promise<void> }).$disconnect();
            if (conn.ownsPool && !conn.pool.ended) await conn.pool.end();
          })();
          return closing;
        },
      },
      query: {
        async $allOperations({ args, query }) {
          if (closing) throw new VendhubError('CLIENT_CLOSED', `the ${name} client is closed; create a new one`);
          try {
            return await query(args);
          } catch (e) {
            throw translateQueryError(e, conn);
          }
        },
      },
    }),
  );
}

function translateQueryError(e: unknown, conn: ServiceConnection): unknown {
  const msg = String((e as { message?: unknown })?.message ?? e);
  if (/timeout exceeded when trying to connect/i.test(msg)) {
    const p = conn.config.connection.pool;
    return new VendhubError(
      'POOL_TIMEOUT',
      `${conn.config.service.name}: no database connection free within ${p.connectionTimeoutMillis} ms (pool of ${p.max}, ${conn.pool.waitingCount} waiting)`,
      { cause: e, hint: 'Raise connection_limit or pool_timeout in the URL, or lower concurrency.' },
    );
  }
  const pw = conn.config.connection.pool.password;
  if (pw && msg.includes(String(pw)) && e instanceof Error) e.message = redactText(e.message, [String(pw)]);
  return e;
}
