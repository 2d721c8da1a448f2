import { parseConnectionUrl, type ParsedConnection } from '../config/connection-url.ts';
import { loadDatabaseConfig, type Env, type ServiceConfig } from '../config/database-config.ts';
import { openDatabase, secretOf, type DatabaseHandle } from '../db/database-handle.ts';
import { VendhubError } from '../errors/vendhub-error.ts';
import { SERVICES, type ServiceName } from '../services.ts';

/** One target database and the services placed in it. */
export interface TargetDatabase extends DatabaseHandle {
  readonly key: string;
  readonly services: readonly ServiceName[];
}

export interface SplitContext {
  /** The source, read-only: every transaction on it is READ ONLY (plan, preflight, copy, verify, follow). */
  readonly source: DatabaseHandle;
  /**
   * The source, writable: only for what must write there (slot and publication, the cutover
   * fence, rollback and the rollback window, abort). A small pool; opens connections on first use.
   */
  readonly sourceWriter: DatabaseHandle;
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
  const secrets = [secretOf(source), ...SERVICES.map((s) => (configs[s] ? secretOf(configs[s].direct) : undefined))].filter((p): p is string => typeof p === 'string');
  const targets: TargetDatabase[] = [...byKey.entries()].map(([key, v]) => ({
    ...openDatabase(v.connection, { label: `target database ${key} (${v.services.join(', ')})`, secrets }),
    key,
    services: v.services,
  }));
  const sourceLabel = `source database ${source.databaseKey} (SOURCE_DATABASE_URL)`;
  const sourceDb = openDatabase(source, { label: sourceLabel, secrets, readOnly: true });
  // Opens connections only when used. Rollback holds one for the whole switchover while the fence
  // records and one reverse stream per target database write into the monolith through it too:
  // sized for that, or those would wait on each other.
  const sourceWriter = openDatabase(source, { label: sourceLabel, secrets, max: targets.length * 2 + 2 });
  let closed = false;
  return {
    source: sourceDb,
    sourceWriter,
    targets,
    serviceConfigs: configs as Record<ServiceName, ServiceConfig>,
    targetFor: (s) => targets.find((t) => t.services.includes(s)) as TargetDatabase,
    secrets,
    async close() {
      if (closed) return;
      closed = true;
      await Promise.all([sourceDb.pool.end(), sourceWriter.pool.end(), ...targets.map((t) => t.pool.end())]);
    },
  };
}

/**
 * The edge of every command and library caller: opens one SplitContext sized for the largest
 * parallelism of the steps `fn` runs, hands it to `fn`, and closes it on every path. Operations
 * (runSplit, verifySplit, followSource, cutover, rollback, …) take this context and never open
 * their own.
 */
export async function withSplitContext<T>(env: Env, opts: ContextOptions, fn: (ctx: SplitContext) => Promise<T>): Promise<T> {
  const ctx = openSplitContext(env, opts);
  try {
    return await fn(ctx);
  } finally {
    await ctx.close();
  }
}
