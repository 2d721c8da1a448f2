import type pg from 'pg';
import { wrapPgError } from '../errors/pg-errors.ts';
import { acquire, type DatabaseHandle } from './database-handle.ts';

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
    if (isConnectionLevel(e)) broken = e as Error;
    throw wrapPgError(e, db.label, secrets);
  } finally {
    client.release(broken);
  }
}

export interface TransactionOptions {
  readonly isolation?: 'read committed' | 'repeatable read' | 'serializable';
  readonly readOnly?: boolean;
}

/**
 * `withDatabase` inside one transaction: BEGIN, `fn`, COMMIT; ROLLBACK on any error (the error
 * thrown is `fn`'s, wrapped like withDatabase's). The only BEGIN/ROLLBACK the tool writes.
 *
 * @example await withTransaction(target, async (c) => { await c.query('INSERT …'); })
 */
export async function withTransaction<T>(db: PooledDatabase, fn: (c: pg.PoolClient) => Promise<T>, opts: TransactionOptions = {}): Promise<T> {
  return withDatabase(db, async (c) => {
    const mode = [opts.isolation ? `ISOLATION LEVEL ${opts.isolation.toUpperCase()}` : '', opts.readOnly ? 'READ ONLY' : ''].filter(Boolean).join(' ');
    await c.query(mode ? `BEGIN ${mode}` : 'BEGIN');
    try {
      const out = await fn(c);
      await c.query('COMMIT');
      return out;
    } catch (e) {
      await c.query('ROLLBACK').catch(() => {});
      throw e;
    }
  });
}

function isConnectionLevel(e: unknown): boolean {
  const code = String((e as { code?: unknown })?.code ?? '');
  return code.startsWith('08') || code === '57P01' || /Connection terminated|ECONNRESET/i.test(String((e as Error)?.message));
}
