import type pg from 'pg';
import { openTransaction, type OpenTransaction, type PooledDatabase } from '../db/with-database.ts';
import type { SplitContext } from './split-context.ts';

/**
 * One instant of the source for every table: a coordinator transaction exports its snapshot and
 * stays open; each worker connection imports it, so all chunks of all tables see the same data.
 */
export interface SourceSnapshot {
  readonly id: string;
  /** The coordinator's connection, inside the snapshot (usable for reads such as chunk bounds). */
  readonly coordinator: pg.PoolClient;
  /** A new transaction inside the same snapshot; end it with `releaseSnapshotClient`. */
  open(): Promise<SnapshotClient>;
  close(): Promise<void>;
}

/** A worker's connection inside a snapshot: a read-only transaction (see `openTransaction`). */
export type SnapshotClient = OpenTransaction;

const SNAPSHOT_READ = { isolation: 'repeatable read', readOnly: true } as const;

/**
 * Exports a snapshot from a new coordinator transaction, or, with `importId` (a snapshot exported
 * elsewhere, e.g. by `CREATE_REPLICATION_SLOT ... (SNAPSHOT 'export')`), joins that one instead, so
 * the copy sees exactly the data a change stream starts after. The exporter of `importId` must stay
 * open and idle until `close()`.
 */
export async function exportSnapshot(ctx: SplitContext, importId?: string): Promise<SourceSnapshot> {
  const coordinator = await openTransaction(ctx.source, { ...SNAPSHOT_READ, secrets: ctx.secrets, ...(importId !== undefined ? { snapshot: importId } : {}) });
  let id: string;
  try {
    id = importId ?? ((await coordinator.client.query<{ id: string }>('SELECT pg_export_snapshot() AS id')).rows[0]?.id as string);
  } catch (e) {
    await coordinator.rollback();
    throw e;
  }
  return {
    id,
    coordinator: coordinator.client,
    open: () => openTransaction(ctx.source, { ...SNAPSHOT_READ, secrets: ctx.secrets, snapshot: id }),
    close: () => coordinator.rollback(),
  };
}

/** Ends a worker's snapshot transaction (read-only: nothing to keep) and gives the connection back; after an error it is discarded. */
export async function releaseSnapshotClient(c: SnapshotClient, failed: boolean): Promise<void> {
  await c.rollback(failed ? new Error('failed inside the snapshot') : undefined);
}

/** A snapshot exported by a transaction that stays open (and idle) until `close()`. */
export interface HeldSnapshot {
  readonly id: string;
  close(): Promise<void>;
}

/** Exports the current instant of one database and holds it, for other sessions to import. */
export async function holdSnapshot(db: PooledDatabase, secrets: readonly string[]): Promise<HeldSnapshot> {
  const tx = await openTransaction(db, { ...SNAPSHOT_READ, secrets });
  try {
    const id = (await tx.client.query<{ id: string }>('SELECT pg_export_snapshot() AS id')).rows[0]?.id as string;
    return { id, close: () => tx.rollback() };
  } catch (e) {
    await tx.rollback(e as Error);
    throw e;
  }
}
