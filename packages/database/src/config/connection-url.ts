import { readFileSync } from 'node:fs';
import type { PoolConfig } from 'pg';
import type { ConnectionOptions } from 'node:tls';
import { redactParsedUrl } from './redact.ts';

/** Pool settings a caller may pass explicitly; they override what the URL says. */
export interface PoolOverrides {
  max?: number;
  connectionTimeoutMillis?: number;
  idleTimeoutMillis?: number;
  statementTimeoutMillis?: number;
  applicationName?: string;
  ssl?: PoolConfig['ssl'];
}

/** What a connection URL resolves to: a pg.Pool config plus facts the tools need. */
export interface ParsedConnection {
  readonly pool: Readonly<PoolConfig>;
  /** host:port/database, used to tell whether two services share a database. */
  readonly databaseKey: string;
  readonly host: string;
  readonly port: number;
  readonly database: string;
  readonly user: string;
  readonly pgbouncer: boolean;
  readonly sslmode: SslMode;
  /** The URL with its password replaced, safe to print. */
  readonly redacted: string;
  /** Parameters that were accepted but have no effect, for a warning. */
  readonly ignored: readonly string[];
}

export type SslMode = 'disable' | 'allow' | 'prefer' | 'require' | 'verify-ca' | 'verify-full';
const SSL_MODES: readonly SslMode[] = ['disable', 'allow', 'prefer', 'require', 'verify-ca', 'verify-full'];

/** Defaults chosen so that nothing waits forever (pg's own default timeout is "never"). */
export const POOL_DEFAULTS = Object.freeze({
  max: 10,
  poolTimeoutSeconds: 10,
  idleTimeoutMillis: 10_000,
});

const KNOWN = new Set([
  'connection_limit', 'pool_timeout', 'connect_timeout', 'sslmode', 'sslrootcert', 'sslcert', 'sslkey',
  'pgbouncer', 'schema', 'application_name', 'statement_timeout', 'host', 'socket_timeout', 'options',
  'sslaccept', 'channel_binding',
]);

/**
 * Parses a PostgreSQL URL the way Prisma users write it and turns the parameters Prisma 7 ignores
 * with driver adapters (`connection_limit`, `pool_timeout`, `connect_timeout`, `sslmode`,
 * `pgbouncer`) into `pg.Pool` settings. Problems are pushed to `problems`, each prefixed with the
 * variable name; nothing is thrown so that every problem can be reported at once.
 *
 * @example parseConnectionUrl('AUTH_DATABASE_URL', 'postgresql://u:p@h/db?connection_limit=5', {}, problems)
 */
export function parseConnectionUrl(
  variable: string,
  raw: string,
  overrides: PoolOverrides,
  problems: string[],
): ParsedConnection | undefined {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    problems.push(`${variable} is not a valid URL (expected postgresql://user:password@host:port/database)`);
    return undefined;
  }
  const redacted = redactParsedUrl(url);
  if (url.protocol !== 'postgresql:' && url.protocol !== 'postgres:') {
    problems.push(`${variable} must start with postgresql:// or postgres://, got ${url.protocol}// (${redacted})`);
    return undefined;
  }
  const before = problems.length;
  const params = url.searchParams;
  const ignored: string[] = [];
  for (const key of params.keys()) {
    if (!KNOWN.has(key)) problems.push(`${variable}: unknown parameter "${key}" (${redacted})`);
  }
  const int = (key: string, min: number): number | undefined => {
    const v = params.get(key);
    if (v === null) return undefined;
    if (!/^\d+$/.test(v) || Number(v) < min) {
      problems.push(`${variable}: ${key} must be a whole number >= ${min}, got "${v}"`);
      return undefined;
    }
    return Number(v);
  };
  const connectionLimit = int('connection_limit', 1);
  const poolTimeout = int('pool_timeout', 0);
  const connectTimeout = int('connect_timeout', 0);
  const statementTimeout = int('statement_timeout', 0);
  const sslmodeRaw = params.get('sslmode') ?? 'prefer';
  let sslmode: SslMode = 'prefer';
  if ((SSL_MODES as readonly string[]).includes(sslmodeRaw)) sslmode = sslmodeRaw as SslMode;
  else problems.push(`${variable}: sslmode must be one of ${SSL_MODES.join(', ')}, got "${sslmodeRaw}"`);
  const pgbouncerRaw = params.get('pgbouncer');
  if (pgbouncerRaw !== null && pgbouncerRaw !== 'true' && pgbouncerRaw !== 'false') {
    problems.push(`${variable}: pgbouncer must be true or false, got "${pgbouncerRaw}"`);
  }
  const pgbouncer = pgbouncerRaw === 'true';
  if (params.has('schema')) ignored.push('schema (each service always uses its own schema)');
  if (params.has('socket_timeout')) ignored.push('socket_timeout');
  const ssl = sslConfig(variable, sslmode, params, problems);

  const host = params.get('host') ?? decodePart(variable, 'host', url.hostname, problems);
  const database = decodePart(variable, 'database name', url.pathname.replace(/^\//, ''), problems);
  if (!database) problems.push(`${variable}: the URL names no database (${redacted})`);
  if (!host) problems.push(`${variable}: the URL names no host (${redacted})`);
  const port = url.port ? Number(url.port) : 5432;
  const user = decodePart(variable, 'user name', url.username, problems);
  const password = url.password ? decodePart(variable, 'password', url.password, problems) : undefined;
  if (problems.length > before) return undefined;

  // pg has one timer for "wait for a pooled connection" and "open a connection": pool_timeout
  // wins when given, then connect_timeout, then a 10 s default (never pg's "wait forever").
  const timeoutS = poolTimeout ?? connectTimeout ?? POOL_DEFAULTS.poolTimeoutSeconds;
  const pool: PoolConfig = {
    host,
    port,
    database,
    user: user || undefined,
    password,
    max: overrides.max ?? connectionLimit ?? POOL_DEFAULTS.max,
    // 0 means "no limit" in Prisma's vocabulary; we keep that meaning only when asked for explicitly.
    connectionTimeoutMillis: overrides.connectionTimeoutMillis ?? timeoutS * 1000,
    idleTimeoutMillis: overrides.idleTimeoutMillis ?? POOL_DEFAULTS.idleTimeoutMillis,
    ssl: overrides.ssl ?? ssl,
    application_name: overrides.applicationName ?? params.get('application_name') ?? 'vendhub',
  };
  const st = overrides.statementTimeoutMillis ?? statementTimeout;
  if (st !== undefined) pool.statement_timeout = st;
  if (params.has('options') && !pgbouncer) pool.options = params.get('options') ?? undefined;
  // The password must never show up when the config object is logged or inspected.
  if (pool.password !== undefined) hidePassword(pool);
  return Object.freeze({
    pool: Object.freeze(pool),
    databaseKey: `${host}:${port}/${database}`,
    host,
    port,
    database,
    user,
    pgbouncer,
    sslmode,
    redacted,
    ignored: Object.freeze(ignored),
  });
}

/** Makes `password` non-enumerable, as node-postgres does, so logs and JSON never include it. */
export function hidePassword<T extends { password?: unknown }>(obj: T): T {
  const value = obj.password;
  Object.defineProperty(obj, 'password', { value, enumerable: false, writable: true, configurable: true });
  return obj;
}

/** decodeURIComponent that reports a malformed escape (a raw `%`) instead of throwing URIError. */
function decodePart(variable: string, part: string, raw: string, problems: string[]): string {
  try {
    return decodeURIComponent(raw);
  } catch {
    problems.push(`${variable}: the ${part} contains a "%" that is not followed by two hex digits; write a literal % as %25 (and percent-encode @ : / ? # as %40 %3A %2F %3F %23)`);
    return '';
  }
}

/**
 * libpq's sslmode semantics on top of Node's TLS options. pg cannot fall back from TLS to plain
 * text, so `allow` and `prefer` connect without TLS; `require` encrypts without verifying (as libpq
 * does when no root certificate is given), `verify-ca` checks the chain, `verify-full` the host too.
 */
function sslConfig(variable: string, mode: SslMode, params: URLSearchParams, problems: string[]): PoolConfig['ssl'] {
  if (mode === 'disable' || mode === 'allow' || mode === 'prefer') return false;
  const read = (key: string): string | undefined => {
    const path = params.get(key);
    if (!path) return undefined;
    try {
      return readFileSync(path, 'utf8');
    } catch {
      problems.push(`${variable}: ${key} file "${path}" cannot be read`);
      return undefined;
    }
  };
  const ca = read('sslrootcert');
  const cert = read('sslcert');
  const key = read('sslkey');
  const tls: ConnectionOptions = {};
  if (cert) tls.cert = cert;
  if (key) tls.key = key;
  if (mode === 'require' && !ca) return { ...tls, rejectUnauthorized: false };
  if (ca) tls.ca = ca;
  if (mode === 'verify-ca') return { ...tls, rejectUnauthorized: true, checkServerIdentity: () => undefined };
  return { ...tls, rejectUnauthorized: true };
}
