import { SERVICE_INFO, SERVICES, type ServiceInfo, type ServiceName } from '../services.ts';
import { VendhubError } from '../errors/vendhub-error.ts';
import { parseConnectionUrl, type ParsedConnection, type PoolOverrides } from './connection-url.ts';

export type Env = Readonly<Record<string, string | undefined>>;

/** One service's resolved, validated connection settings. */
export interface ServiceConfig {
  readonly service: ServiceInfo;
  /** Where the URL came from, e.g. `AUTH_DATABASE_URL` or `DATABASE_URL`. */
  readonly urlSource: string;
  readonly connection: ParsedConnection;
  /** Direct connection for migrations and roles (bypasses PgBouncer when `<SERVICE>_DIRECT_URL` is set). */
  readonly direct: ParsedConnection;
  readonly directSource: string;
  readonly warnings: readonly string[];
}

export interface LoadOptions {
  /** Services to resolve; others are not required to be configured. Default: all. */
  services?: readonly ServiceName[];
  /** Explicit pool settings; they override URL parameters. */
  pool?: PoolOverrides;
}

/**
 * Resolves each service's database from the environment: `<SERVICE>_DATABASE_URL`, falling back to
 * `DATABASE_URL`. Any mix is valid: all services in one database (option 1), one database each
 * (option 2), or some sharing. Every problem is collected and thrown once, naming the variable.
 *
 * @example
 *   const cfg = loadDatabaseConfig(process.env, { services: ['auth'] });
 *   cfg.auth.connection.pool // -> pg.PoolConfig with max, timeouts and ssl from the URL
 */
export function loadDatabaseConfig(env: Env = process.env, opts: LoadOptions = {}): Readonly<Partial<Record<ServiceName, ServiceConfig>>> {
  const problems: string[] = [];
  const out: Partial<Record<ServiceName, ServiceConfig>> = {};
  for (const name of opts.services ?? SERVICES) {
    const service = SERVICE_INFO[name];
    const own = nonEmpty(env[service.urlVar]);
    const fallback = nonEmpty(env.DATABASE_URL);
    const urlSource = own !== undefined ? service.urlVar : fallback !== undefined ? 'DATABASE_URL' : undefined;
    if (urlSource === undefined) {
      problems.push(`${service.urlVar} is not set and there is no DATABASE_URL to fall back to (service ${name})`);
      continue;
    }
    const connection = parseConnectionUrl(urlSource, (own ?? fallback) as string, opts.pool ?? {}, problems);
    const ownDirect = nonEmpty(env[service.directUrlVar]);
    const sharedDirect = nonEmpty(env.DIRECT_URL);
    let direct = connection;
    let directSource = urlSource;
    if (ownDirect !== undefined || (sharedDirect !== undefined && urlSource === 'DATABASE_URL')) {
      directSource = ownDirect !== undefined ? service.directUrlVar : 'DIRECT_URL';
      direct = parseConnectionUrl(directSource, (ownDirect ?? sharedDirect) as string, opts.pool ?? {}, problems);
    }
    if (!connection || !direct) continue;
    const warnings = connection.ignored.map((p) => `${urlSource}: parameter ${p} is ignored`);
    if (connection.pgbouncer && direct === connection) {
      warnings.push(`${urlSource} goes through PgBouncer (pgbouncer=true); set ${service.directUrlVar} to a direct URL for migrations`);
    }
    out[name] = Object.freeze({ service, urlSource, connection, direct, directSource, warnings: Object.freeze(warnings) });
  }
  if (problems.length > 0) {
    const unique = [...new Set(problems)];
    throw new VendhubError('CONFIG_INVALID', `Invalid database configuration:\n  - ${unique.join('\n  - ')}`, {
      details: { problems: unique },
      hint: 'Set DATABASE_URL for all services, or <SERVICE>_DATABASE_URL per service (see README, "Topologies").',
    });
  }
  return Object.freeze(out);
}

/** Like `loadDatabaseConfig` for a single service, returning its config directly. */
export function loadServiceConfig(name: ServiceName, env: Env = process.env, pool?: PoolOverrides): ServiceConfig {
  const opts: LoadOptions = { services: [name] };
  if (pool) opts.pool = pool;
  return loadDatabaseConfig(env, opts)[name] as ServiceConfig;
}

function nonEmpty(v: string | undefined): string | undefined {
  return v === undefined || v.trim() === '' ? undefined : v.trim();
}
