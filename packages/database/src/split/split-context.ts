import pg from 'pg';
import { parseConnectionUrl, type ParsedConnection } from '../config/connection-url.ts';
import { loadDatabaseConfig, type Env, type ServiceConfig } from '../config/database-config.ts';
import { wrapPgError } from '../errors/pg-errors.ts';
import { VendhubError } from '../errors/vendhub-error.ts';
import { SERVICES, type ServiceName } from '../services.ts';

/** One target database and the services placed in it. */
export interface TargetDatabase {
  readonly key: string;
  readonly connection: ParsedConnection;
  readonly services: readonly ServiceName[];
  readonly pool: pg.Pool;
  /** "auth, tasks service database 127.0.0.1:5432/vendhub" — for messages. */
  readonly label: string;
}

export interface SplitContext {
  readonly source: { readonly connection: ParsedConnection; readonly pool: pg.Pool; readonly label: string };
  readonly targets: readonly TargetDatabase[];
  readonly serviceConfigs: Readonly<Record<ServiceName, ServiceConfig>>;
  targetFor(service: ServiceName): TargetDatabase;
  readonly secrets: readonly string[];
  close(): Promise<void>;
}

export interface ContextOptions {
  /** Connections per database for parallel copy. */
  readonly parallel: number;
}

/**
 * Resolves the source (`SOURCE_DATABASE_URL`) and the targets (the services' own variables, direct
 * URLs preferred), groups services by target database, and opens one pool per database. All
 * configuration problems, source and targets alike, are reported together.
 */
export function openSplitContext(env: Env, opts: ContextOptions): SplitContext {
  const problems: string[] = [];
  const rawSource = env.SOURCE_DATABASE_URL?.trim();
  let source: ParsedConnection | undefined;
  if (!rawSource) problems.push('SOURCE_DATABASE_URL is not set: it names the monolith database to split');
  else source = parseConnectionUrl('SOURCE_DATABASE_URL', rawSource, { max: opts.parallel + 2 }, problems);
  let configs: Partial<Record<ServiceName, ServiceConfig>> = {};
  try {
    configs = loadDatabaseConfig(env, { pool: { max: opts.parallel + 1 } });
  } catch (e) {
    if (e instanceof VendhubError && Array.isArray(e.details.problems)) problems.push(...(e.details.problems as string[]));
    else throw e;
  }
  if (problems.length > 0 || !source) {
    throw new VendhubError('CONFIG_INVALID', `Invalid split configuration:\n  - ${problems.join('\n  - ')}`, {
      details: { problems },
      hint: 'Set SOURCE_DATABASE_URL to the monolith and DATABASE_URL or <SERVICE>_DATABASE_URL to the targets.',
    });
  }
  const byKey = new Map<string, { connection: ParsedConnection; services: ServiceName[] }>();
  for (const s of SERVICES) {
    const c = configs[s] as ServiceConfig;
    const entry = byKey.get(c.direct.databaseKey) ?? { connection: c.direct, services: [] };
    entry.services.push(s);
    byKey.set(c.direct.databaseKey, entry);
  }
  const secrets = [source.pool.password, ...SERVICES.map((s) => configs[s]?.direct.pool.password)].filter((p): p is string => typeof p === 'string');
  const mkPool = (conn: ParsedConnection) => {
    const p = new pg.Pool({ ...conn.pool, password: conn.pool.password });
    p.on('error', () => {});
    return p;
  };
  const targets: TargetDatabase[] = [...byKey.entries()].map(([key, v]) => ({
    key,
    connection: v.connection,
    services: v.services,
    pool: mkPool(v.connection),
    label: `target database ${key} (${v.services.join(', ')})`,
  }));
  const sourcePool = mkPool(source);
  let closed = false;
  return {
    source: { connection: source, pool: sourcePool, label: `source database ${source.databaseKey} (SOURCE_DATABASE_URL)` },
    targets,
    serviceConfigs: configs as Record<ServiceName, ServiceConfig>,
    targetFor: (s) => targets.find((t) => t.services.includes(s)) as TargetDatabase,
    secrets,
    async close() {
      if (closed) return;
      closed = true;
      await Promise.all([sourcePool.end(), ...targets.map((t) => t.pool.end())]);
    },
  };
}

/** Connects a client from a pool, turning failures into messages that name the database. */
export async function connectTo(pool: pg.Pool, label: string, secrets: readonly string[]): Promise<pg.PoolClient> {
  try {
    return await pool.connect();
  } catch (e) {
    throw wrapPgError(e, label, [...secrets]);
  }
}

/**
 * Runs `fn` on a connection to one database of the context (the source or a target): errors name
 * that database and never carry a password; the connection goes back to its pool either way.
 */
export async function withDatabase<T>(ctx: SplitContext, db: { readonly pool: pg.Pool; readonly label: string }, fn: (c: pg.PoolClient) => Promise<T>): Promise<T> {
  const c = await connectTo(db.pool, db.label, ctx.secrets);
  try {
    return await fn(c);
  } catch (e) {
    throw wrapPgError(e, db.label, [...ctx.secrets]);
  } finally {
    c.release();
  }
}
