import type pg from 'pg';
import { replicationClient as openReplicationClient } from '../db/database-handle.ts';
import { wrapPgError } from '../errors/pg-errors.ts';
import { VendhubError } from '../errors/vendhub-error.ts';
import { qualified, quoteIdent } from '../sql/quote.ts';
import { withDatabase } from '../db/with-database.ts';
import type { SplitContext } from '../split/split-context.ts';
import type { TableMapping } from '../split/split-plan.ts';
import type { FollowNames } from './follow-names.ts';

/** A new slot whose exported snapshot stays valid while `exporter` is open and idle. */
export interface CreatedSlot {
  readonly snapshotId: string;
  /** Changes committed after this LSN are streamed; the snapshot holds everything before. */
  readonly consistentPoint: string;
  /** Ends the replication connection (the snapshot becomes unusable). Idempotent. */
  close(): Promise<void>;
}

/** A replication-protocol client (`replication: 'database'`) for the source. */
export function replicationClient(ctx: SplitContext): pg.Client {
  return openReplicationClient(ctx.source.connection);
}

/**
 * Creates the publication for the mapped source tables and, on a replication connection, the
 * logical slot with an exported snapshot: copying from that snapshot and streaming from the slot
 * meet exactly, with no change lost or applied twice.
 */
export async function createSlotAndPublication(ctx: SplitContext, names: FollowNames, tables: readonly TableMapping[]): Promise<CreatedSlot> {
  // The slot and publication are among the few writes to the source: the writer handle.
  return withDatabase(ctx, ctx.sourceWriter, async (admin) => {
    const exists = await admin.query(`SELECT 1 FROM pg_replication_slots WHERE slot_name = $1 UNION ALL SELECT 1 FROM pg_publication WHERE pubname = $2`, [names.slot, names.publication]);
    if (exists.rowCount) {
      // Someone's follow split (this message tells them to continue it): left exactly as it is.
      throw new VendhubError('PREFLIGHT_FAILED', `slot ${names.slot} or publication ${names.publication} already exists on the source: a follow split is in progress or was not cleaned up`, {
        hint: `Continue it with \`vendhub-db split follow\`, or remove it with \`vendhub-db split abort\`.`,
      });
    }
    const repl = replicationClient(ctx);
    let published = false;
    try {
      const list = [...new Set(tables.map((t) => qualified(t.sourceSchema, t.sourceTable)))].join(', ');
      await admin.query(`CREATE PUBLICATION ${quoteIdent(names.publication)} FOR TABLE ${list}`);
      published = true;
      await repl.connect();
      const r = await repl.query(`CREATE_REPLICATION_SLOT ${quoteIdent(names.slot)} LOGICAL pgoutput (SNAPSHOT 'export')`);
      const row = r.rows[0] as { consistent_point: string; snapshot_name: string };
      let closed = false;
      return {
        snapshotId: row.snapshot_name,
        consistentPoint: row.consistent_point,
        async close() {
          if (closed) return;
          closed = true;
          await repl.end().catch(() => {});
        },
      };
    } catch (e) {
      // Only what this call made: the slot is its last step (it failed), the publication may be ours.
      await repl.end().catch(() => {});
      if (published) await admin.query(`DROP PUBLICATION IF EXISTS ${quoteIdent(names.publication)}`).catch(() => {});
      throw e;
    }
  });
}

export interface SlotStatus {
  readonly exists: boolean;
  readonly activePid: number | null;
  readonly confirmedFlushLsn: string | null;
  /** pg_current_wal_lsn() - confirmed_flush_lsn: what the targets still have to receive. */
  readonly lagBytes: number;
  /** pg_current_wal_lsn() - restart_lsn: WAL the source keeps for this slot. */
  readonly retainedBytes: number;
  readonly currentLsn: string;
  /** pg_replication_slots.wal_status: reserved, extended, unreserved, or lost (invalidated: the WAL it needs is gone). */
  readonly walStatus: string | null;
}

export async function slotStatus(c: pg.ClientBase, slot: string): Promise<SlotStatus> {
  const r = await c.query<{ active_pid: number | null; confirmed: string | null; lag: string | null; retained: string | null; cur: string; wal_status: string | null }>(
    `SELECT s.active_pid, s.confirmed_flush_lsn::text AS confirmed, pg_current_wal_lsn()::text AS cur, s.wal_status,
            greatest(0, pg_wal_lsn_diff(pg_current_wal_lsn(), s.confirmed_flush_lsn))::bigint::text AS lag,
            pg_wal_lsn_diff(pg_current_wal_lsn(), s.restart_lsn)::bigint::text AS retained
       FROM (SELECT 1) one LEFT JOIN pg_replication_slots s ON s.slot_name = $1`, [slot]);
  const row = r.rows[0];
  return {
    exists: row?.confirmed !== null && row?.confirmed !== undefined,
    activePid: row?.active_pid ?? null,
    confirmedFlushLsn: row?.confirmed ?? null,
    lagBytes: Number(row?.lag ?? 0),
    retainedBytes: Number(row?.retained ?? 0),
    currentLsn: row?.cur ?? '0/0',
    walStatus: row?.wal_status ?? null,
  };
}

/** Stops whoever streams from the slot (a follower), so another process can take it over or drop it. */
export async function releaseSlot(c: pg.ClientBase, slot: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const s = await slotStatus(c, slot);
    if (!s.exists || s.activePid === null) return;
    await c.query('SELECT pg_terminate_backend($1)', [s.activePid]);
    if (Date.now() > deadline) throw new VendhubError('TIMEOUT', `the replication slot ${slot} is still in use by process ${s.activePid}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Drops the slot (stopping its reader first) and the publication; missing ones are fine. */
export async function dropSlotAndPublicationWith(c: pg.ClientBase, names: FollowNames): Promise<{ slot: boolean; publication: boolean }> {
  await releaseSlot(c, names.slot);
  const s = await c.query(`SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE slot_name = $1`, [names.slot]);
  const p = await c.query(`SELECT 1 FROM pg_publication WHERE pubname = $1`, [names.publication]);
  if (p.rowCount) await c.query(`DROP PUBLICATION ${quoteIdent(names.publication)}`);
  return { slot: (s.rowCount ?? 0) > 0, publication: (p.rowCount ?? 0) > 0 };
}

/**
 * Data changes (insert, update, delete, truncate) waiting in the slot beyond `appliedLsn`: after a
 * fence they are writes that got past it (a superuser, or writers that were not stopped). Waits
 * briefly for the last acknowledgement to reach the server so applied changes are not counted.
 */
export async function changesAfter(c: pg.ClientBase, names: FollowNames, appliedLsn: string): Promise<number> {
  const deadline = Date.now() + 2_000;
  for (;;) {
    const s = await slotStatus(c, names.slot);
    const caughtUp = s.confirmedFlushLsn !== null && (await c.query<{ ok: boolean }>('SELECT $1::pg_lsn >= $2::pg_lsn AS ok', [s.confirmedFlushLsn, appliedLsn])).rows[0]?.ok;
    if ((caughtUp && s.activePid === null) || Date.now() > deadline) break;
    await new Promise((r) => setTimeout(r, 20));
  }
  // pgoutput message types: I(73) U(85) D(68) T(84).
  const r = await c.query<{ n: number }>(
    `SELECT count(*)::int AS n FROM pg_logical_slot_peek_binary_changes($1, NULL, NULL, 'proto_version', '1', 'publication_names', $2)
      WHERE get_byte(data, 0) IN (73, 85, 68, 84)`, [names.slot, names.publication]);
  return r.rows[0]?.n ?? 0;
}

/**
 * A temporary logical slot with an exported snapshot, for one background verify pass: the snapshot
 * holds exactly the transactions committed before its consistent point. Nothing is ever streamed
 * from it; PostgreSQL drops it when `close()` ends the replication connection (or the process dies).
 * Gives up after `timeoutMs` (creating a slot waits for the write transactions running on the source).
 */
export async function createSnapshotSlot(ctx: SplitContext, name: string, timeoutMs = 30_000): Promise<CreatedSlot> {
  const repl = replicationClient(ctx);
  const end = () => repl.end().catch(() => {});
  let timer: NodeJS.Timeout | undefined;
  try {
    await repl.connect();
    const created = repl.query(`CREATE_REPLICATION_SLOT ${quoteIdent(name)} TEMPORARY LOGICAL pgoutput (SNAPSHOT 'export')`);
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new VendhubError('TIMEOUT', `creating the verify slot on ${ctx.source.label} took longer than ${timeoutMs} ms (a long write transaction is open there)`)), timeoutMs);
    });
    const r = await Promise.race([created, timeout]);
    const row = r.rows[0] as { consistent_point: string; snapshot_name: string };
    let closed = false;
    return {
      snapshotId: row.snapshot_name,
      consistentPoint: row.consistent_point,
      async close() {
        if (closed) return;
        closed = true;
        await end();
      },
    };
  } catch (e) {
    await end();
    throw wrapPgError(e, ctx.source.label, [...ctx.secrets]);
  } finally {
    clearTimeout(timer);
  }
}
