import type pg from 'pg';
import { wrapPgError } from '../errors/pg-errors.ts';
import { acquire, connectionLost, type DatabaseHandle } from './database-handle.ts';

/** Anything holding a pool and a label: a DatabaseHandle, or the older `{ pool, label }` shapes. */
export type PooledDatabase = Pick<DatabaseHandle, 'pool' | 'label'> & { readonly secrets?: readonly string[] };

/**
 * Runs `fn` on a connection to one database: errors name that database and never carry a
 * password; the connection goes back to its pool on every path. The first form takes the
 * context (or anything with `secrets`) whose other passwords must be redacted too.
 *
 * @example await withDatabase(ctx.source, (c) => c.query('SELECT 1'))
 * @example await withDatabase(ctx, ctx.targetFor('auth'), (c) => c.query('SELECT 1'))
 */
export async function withDatabase<T>(db: PooledDatabase, fn: (c: pg.PoolClient) => Promise<T>): Promise<T>;
export async function withDatabase<T>(ctx: { readonly secrets: readonly string[] }, db: PooledDatabase, fn: (c: pg.PoolClient) => Promise<T>): Promise<T>;
export async function withDatabase<T>(
  a: PooledDatabase | { readonly secrets: readonly string[] },
  b: PooledDatabase | ((c: pg.PoolClient) => Promise<T>),
  c?: (c: pg.PoolClient) => Promise<T>,
): Promise<T> {
  const db = (typeof b === 'function' ? a : b) as PooledDatabase;
  const fn = (typeof b === 'function' ? b : c) as (c: pg.PoolClient) => Promise<T>;
  const secrets = [...new Set([...(a.secrets ?? []), ...(db.secrets ?? [])])];
  const client = await acquire(db.pool, db.label, secrets);
  let broken: Error | undefined;
  try {
    return await fn(client);
  } catch (e) {
    // A connection that failed mid-protocol (terminated, COPY cut off) must not go back to the pool.
    const lostWith = connectionLost(client);
    if (lostWith || isConnectionLevel(e)) broken = lostWith ?? (e as Error);
    throw wrapPgError(lostWith ?? e, db.label, secrets);
  } finally {
    client.release(broken);
  }
}

export interface TransactionOptions {
  readonly isolation?: 'read committed' | 'repeatable read' | 'serializable';
  readonly readOnly?: boolean;
  /** `SET TRANSACTION SNAPSHOT`: join a snapshot another session exported (and holds open). */
  readonly snapshot?: string;
  /** `SET LOCAL name = value` right after BEGIN (e.g. session_replication_role, maintenance_work_mem). */
  readonly local?: Readonly<Record<string, string>>;
}

/** BEGIN with the options, the snapshot joined and the local settings made: the only BEGIN the tool writes. */
async function begin(c: pg.ClientBase, opts: TransactionOptions): Promise<void> {
  const mode = [opts.isolation ? `ISOLATION LEVEL ${opts.isolation.toUpperCase()}` : '', opts.readOnly ? 'READ ONLY' : ''].filter(Boolean).join(' ');
  await c.query(mode ? `BEGIN ${mode}` : 'BEGIN');
  if (opts.snapshot !== undefined) await c.query(`SET TRANSACTION SNAPSHOT ${quoteText(opts.snapshot)}`);
  for (const [k, v] of Object.entries(opts.local ?? {})) await c.query(`SET LOCAL ${quoteName(k)} = ${quoteText(v)}`);
}

/**
 * `withDatabase` inside one transaction: BEGIN, `fn`, COMMIT; ROLLBACK on any error (the error
 * thrown is `fn`'s, wrapped like withDatabase's). `secrets`: other databases' passwords to redact.
 *
 * @example await withTransaction(target, async (c) => { await c.query('INSERT …'); })
 */
export async function withTransaction<T>(db: PooledDatabase, fn: (c: pg.PoolClient) => Promise<T>, opts: TransactionOptions & { readonly secrets?: readonly string[] } = {}): Promise<T> {
  const tx = await openTransaction(db, opts);
  let out: T;
  try {
    out = await fn(tx.client);
  } catch (e) {
    const lostWith = connectionLost(tx.client);
    await tx.rollback(lostWith ?? (isConnectionLevel(e) ? (e as Error) : undefined));
    throw wrapPgError(lostWith ?? e, db.label, tx.secrets);
  }
  await tx.commit();
  return out;
}

/** A transaction that stays open across steps that are not one callback; see `openTransaction`. */
export interface OpenTransaction {
  /** The connection, inside the transaction. Do not release it: `commit` or `rollback` does. */
  readonly client: pg.PoolClient;
  /** COMMIT and give the connection back (on failure: discarded, error wrapped). Once only. */
  commit(): Promise<void>;
  /**
   * ROLLBACK and give the connection back; discarded if the rollback failed or `broken` (an error
   * that left the connection unusable) is given. Idempotent, never throws.
   */
  rollback(broken?: Error): Promise<void>;
  /** The passwords kept out of its errors (the database's and the caller's). */
  readonly secrets: string[];
  /** Whether commit or rollback already ended it. */
  readonly ended: boolean;
}

/**
 * A transaction kept open across steps that are not one callback: the follower's target
 * transaction that spans several messages of a large source transaction, a snapshot held open by
 * its exporter while workers import it. The connection goes back to its pool on every path
 * through `commit()` / `rollback()`; errors name the database and carry no password. Prefer
 * `withTransaction` whenever the work fits in one callback.
 *
 * @example const tx = await openTransaction(db, { isolation: 'repeatable read', readOnly: true });
 *          try { … tx.client.query(…) … } finally { await tx.rollback(); }
 */
export async function openTransaction(db: PooledDatabase, opts: TransactionOptions & { readonly secrets?: readonly string[] } = {}): Promise<OpenTransaction> {
  const secrets = [...new Set([...(opts.secrets ?? []), ...(db.secrets ?? [])])];
  const client = await acquire(db.pool, db.label, secrets);
  try {
    await begin(client, opts);
  } catch (e) {
    await client.query('ROLLBACK').catch(() => {});
    client.release(e as Error);
    throw wrapPgError(connectionLost(client) ?? e, db.label, secrets);
  }
  let ended = false;
  return {
    client,
    secrets,
    get ended() {
      return ended;
    },
    async commit() {
      if (ended) throw new Error(`${db.label}: the transaction already ended`);
      ended = true;
      try {
        await client.query('COMMIT');
      } catch (e) {
        client.release(e as Error);
        throw wrapPgError(connectionLost(client) ?? e, db.label, secrets);
      }
      client.release();
    },
    async rollback(broken?: Error) {
      if (ended) return;
      ended = true;
      const failed = broken ?? connectionLost(client) ?? (await client.query('ROLLBACK').then(() => undefined, (e: Error) => e));
      client.release(failed);
    },
  };
}

const quoteText = (v: string) => `'${v.replace(/'/g, "''")}'`;
const quoteName = (k: string) => (/^[a-z_][a-z0-9_.]*$/i.test(k) ? k : `"${k.replace(/"/g, '""')}"`);

function isConnectionLevel(e: unknown): boolean {
  const code = String((e as { code?: unknown })?.code ?? '');
  return code.startsWith('08') || code === '57P01' || /Connection terminated|ECONNRESET/i.test(String((e as Error)?.message));
}
