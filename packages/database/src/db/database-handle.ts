import pg from 'pg';
import type { ParsedConnection } from '../config/connection-url.ts';
import { wrapPgError } from '../errors/pg-errors.ts';
import { sessionSettings, setStatements, startupOptions, type SessionOptions } from './session-settings.ts';

/**
 * One database the tool talks to: its parsed connection, a pool, a label for messages and the
 * secrets to redact from them. `readOnly` handles run every transaction READ ONLY (the source,
 * except for the explicit writer handle).
 */
export interface DatabaseHandle {
  readonly connection: ParsedConnection;
  readonly pool: pg.Pool;
  /** "source database 127.0.0.1:5432/app (SOURCE_DATABASE_URL)": for messages. */
  readonly label: string;
  readonly secrets: readonly string[];
  readonly readOnly: boolean;
}

export interface OpenOptions extends SessionOptions {
  readonly label: string;
  /** Pool size; default the connection's own (connection_limit). */
  readonly max?: number;
  /**
   * Pin the session settings (default true). Only the applications' own service clients pass
   * false: their sessions keep the server's defaults, Prisma's adapter parses values itself.
   */
  readonly pin?: boolean;
  /** Secrets besides this connection's password to redact from errors (other databases'). */
  readonly secrets?: readonly string[];
  /** Another database on the same server (shadow or scratch databases). */
  readonly database?: string;
}

/** SET statements still to run on each new session of a pool (PgBouncer: no startup `options`). */
const pendingSetup = new WeakMap<pg.Pool, string>();
const setUp = new WeakSet<pg.ClientBase>();
/** The last connection error each checked-out client reported (terminated by the server, network gone). */
const lost = new WeakMap<pg.ClientBase, Error>();
const equipped = new WeakSet<pg.ClientBase>();

/**
 * The connection error a checked-out client reported, if any. A checked-out pg client has no
 * `'error'` listener of its own: a server that ends the session while the tool holds it (idle
 * inside a transaction kept open across messages) would crash the process. `acquire` keeps the
 * error instead; the next use of the client fails, and this tells why.
 */
export const connectionLost = (c: pg.ClientBase): Error | undefined => lost.get(c);

/** The connection's password; the parsed value keeps it non-enumerable. */
export function secretOf(conn: ParsedConnection): string | undefined {
  const p = conn.pool.password;
  return typeof p === 'string' ? p : undefined;
}

/**
 * The one place a pg config is built from a parsed connection. It is a private copy, and the
 * password travels as a function (pg calls it when the server asks): every later `{ ...copy }`
 * — pg-pool's, pg-logical-replication's, ours — keeps it, and no log or JSON shows it.
 */
function pgConfig(conn: ParsedConnection, opts: Omit<OpenOptions, 'label' | 'secrets'>, extra: pg.ClientConfig = {}): pg.PoolConfig {
  const cfg: pg.PoolConfig = { ...conn.pool, ...extra };
  const secret = secretOf(conn);
  if (secret !== undefined) cfg.password = () => secret;
  if (opts.max !== undefined) cfg.max = opts.max;
  if (opts.database !== undefined) cfg.database = opts.database;
  if (opts.pin === false) return cfg;
  const settings = sessionSettings(opts);
  if (conn.pgbouncer) return cfg; // settings are SET after connecting, see setupSql
  cfg.options = startupOptions(settings, conn.pool.options);
  return cfg;
}

function setupSql(conn: ParsedConnection, opts: Omit<OpenOptions, 'label' | 'secrets'>): string | undefined {
  return conn.pgbouncer && opts.pin !== false ? setStatements(sessionSettings(opts)) : undefined;
}

function allSecrets(conn: ParsedConnection, more: readonly string[] = []): string[] {
  const s = secretOf(conn);
  return [...new Set([...(s ? [s] : []), ...more])];
}

/**
 * Opens a pool on one database. Idle-client errors (a server restart, PgBouncer closing a link)
 * go to `onError` instead of crashing the process.
 *
 * @example const source = openDatabase(parsed, { label: 'source database …', readOnly: true });
 */
export function openDatabase(conn: ParsedConnection, opts: OpenOptions, onError: (e: Error) => void = () => {}): DatabaseHandle {
  const pool = new pg.Pool(pgConfig(conn, opts));
  pool.on('error', onError);
  const setup = setupSql(conn, opts);
  if (setup) pendingSetup.set(pool, setup);
  return Object.freeze({ connection: conn, pool, label: opts.label, secrets: Object.freeze(allSecrets(conn, opts.secrets)), readOnly: opts.readOnly === true });
}

/**
 * A client from a handle's pool, its session settings in place; failures name the database and
 * never carry a password. Internal to the floor: everything else goes through `withDatabase`,
 * `withTransaction` or `openTransaction`, which also give it back on every path.
 */
export async function acquire(pool: pg.Pool, label: string, secrets: readonly string[]): Promise<pg.PoolClient> {
  let c: pg.PoolClient;
  try {
    c = await pool.connect();
  } catch (e) {
    throw wrapPgError(e, label, [...secrets]);
  }
  if (!equipped.has(c)) {
    equipped.add(c);
    c.on('error', (e: Error) => lost.set(c, e));
  }
  lost.delete(c);
  const setup = pendingSetup.get(pool);
  if (setup && !setUp.has(c)) {
    try {
      await c.query(setup);
      setUp.add(c);
    } catch (e) {
      c.release(e as Error);
      throw wrapPgError(e, label, [...secrets]);
    }
  }
  return c;
}

/**
 * A single connected client outside any pool (migrations, roles, building the demo monolith),
 * set up like a pooled one. The caller ends it; `withClient` does that for you.
 */
export async function connectClient(conn: ParsedConnection, opts: OpenOptions, extra: pg.ClientConfig = {}): Promise<pg.Client> {
  const c = new pg.Client(pgConfig(conn, opts, extra));
  c.on('error', () => {});
  try {
    await c.connect();
    const setup = setupSql(conn, opts);
    if (setup) await c.query(setup);
    return c;
  } catch (e) {
    await c.end().catch(() => {});
    throw wrapPgError(e, opts.label, allSecrets(conn, opts.secrets));
  }
}

/** Runs `fn` on a new client of its own (not pooled), ended on every path. */
export async function withClient<T>(conn: ParsedConnection, opts: OpenOptions, fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const c = await connectClient(conn, opts);
  try {
    return await fn(c);
  } catch (e) {
    throw wrapPgError(e, opts.label, allSecrets(conn, opts.secrets));
  } finally {
    await c.end().catch(() => {});
  }
}

/**
 * The client config of a replication-protocol connection (`replication: 'database'`) with the
 * session pinned: pgoutput renders values as text with these settings. For libraries that open the
 * connection themselves (pg-logical-replication spreads it: the password survives, see pgConfig).
 */
export function replicationConfig(conn: ParsedConnection, opts: Omit<OpenOptions, 'label'> = {}): pg.ClientConfig {
  const { max: _max, ...rest } = pgConfig(conn, { ...opts, readOnly: false }, { replication: 'database' } as pg.ClientConfig) as pg.PoolConfig & { max?: number };
  return rest;
}

/** An unconnected replication-protocol client for the connection (slot creation). */
export function replicationClient(conn: ParsedConnection): pg.Client {
  const c = new pg.Client(replicationConfig(conn));
  c.on('error', () => {});
  return c;
}
