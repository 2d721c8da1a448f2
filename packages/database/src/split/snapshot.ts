import type pg from 'pg';
import { connectTo, type SplitContext } from './split-context.ts';

/**
 * One instant of the source for every table: a coordinator transaction exports its snapshot and
 * stays open; each worker connection imports it, so all chunks of all tables see the same data.
 */
export interface SourceSnapshot {
  readonly id: string;
  /** The coordinator's connection, inside the snapshot (usable for reads such as chunk bounds). */
  readonly coordinator: pg.PoolClient;
  /** A new connection inside the same snapshot. Release it with `release(true)` after an error. */
  open(): Promise<pg.PoolClient>;
  close(): Promise<void>;
}

/**
 * Exports a snapshot from a new coordinator transaction, or, with `importId` (a snapshot exported
 * elsewhere, e.g. by `CREATE_REPLICATION_SLOT ... (SNAPSHOT 'export')`), joins that one instead, so
 * the copy sees exactly the data a change stream starts after. The exporter of `importId` must stay
 * open and idle until `close()`.
 */
export async function exportSnapshot(ctx: SplitContext, importId?: string): Promise<SourceSnapshot> {
  const coordinator = await connectTo(ctx.source.pool, ctx.source.label, ctx.secrets);
  await coordinator.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
  if (importId !== undefined) await coordinator.query(`SET TRANSACTION SNAPSHOT '${importId.replace(/'/g, "''")}'`);
  const id = importId ?? ((await coordinator.query<{ id: string }>('SELECT pg_export_snapshot() AS id')).rows[0]?.id as string);
  let closed = false;
  return {
    id,
    coordinator,
    async open() {
      const c = await connectTo(ctx.source.pool, ctx.source.label, ctx.secrets);
      try {
        await c.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
        await c.query(`SET TRANSACTION SNAPSHOT '${id.replace(/'/g, "''")}'`);
        return c;
      } catch (e) {
        c.release(true);
        throw e;
      }
    },
    async close() {
      if (closed) return;
      closed = true;
      await coordinator.query('COMMIT').catch(() => {});
      coordinator.release();
    },
  };
}

/** Ends a worker's snapshot transaction and gives the connection back. */
export async function releaseSnapshotClient(c: pg.PoolClient, failed: boolean): Promise<void> {
  if (failed) {
    c.release(true);
    return;
  }
  await c.query('COMMIT').catch(() => {});
  c.release();
}

/** A snapshot exported by a transaction that stays open (and idle) until `close()`. */
export interface HeldSnapshot {
  readonly id: string;
  close(): Promise<void>;
}

/** Exports the current instant of one database and holds it, for other sessions to import. */
export async function holdSnapshot(pool: pg.Pool, label: string, secrets: readonly string[]): Promise<HeldSnapshot> {
  const c = await connectTo(pool, label, secrets);
  try {
    await c.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
    const id = (await c.query<{ id: string }>('SELECT pg_export_snapshot() AS id')).rows[0]?.id as string;
    let closed = false;
    return {
      id,
      async close() {
        if (closed) return;
        closed = true;
        await releaseSnapshotClient(c, false);
      },
    };
  } catch (e) {
    c.release(true);
    throw e;
  }
}
