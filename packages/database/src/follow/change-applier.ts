import type pg from 'pg';
import { wrapPgError } from '../errors/pg-errors.ts';
import { connectTo } from '../split/split-context.ts';
import { readFollowState, writeFollowState } from './follow-state.ts';
import { lsnAtLeast } from './lsn.ts';
import type { SourceRow, TableApplier } from './table-applier.ts';

/** One streamed change, already resolved to the table it feeds. */
export type Change =
  | { readonly op: 'upsert'; readonly table: TableApplier; readonly row: SourceRow; readonly old: SourceRow | null }
  | { readonly op: 'delete'; readonly table: TableApplier; readonly key: SourceRow }
  | { readonly op: 'truncate'; readonly tables: readonly TableApplier[] };

/** One committed source transaction. `barrier`: every target records its position (a fence marker). */
export interface SourceTransaction {
  readonly commitEndLsn: string;
  readonly commitTime: Date;
  readonly changes: readonly Change[];
  readonly barrier: boolean;
  /** Fence marker ids carried by this transaction. */
  readonly markers?: readonly string[];
}

/** A database changes are applied to: a target (`split follow`) or the monolith (`split follow-back`). */
export interface ApplyDatabase {
  readonly pool: pg.Pool;
  readonly label: string;
  /**
   * Apply as PostgreSQL's own subscriber does (`session_replication_role = replica`): foreign keys
   * and user triggers do not fire. For the monolith, whose foreign keys span services that stream
   * back independently.
   */
  readonly replicaRole?: boolean;
}

/** Every database a stream feeds (each records its position), and the passwords to keep out of messages. */
export interface ApplySide {
  readonly targets: readonly ApplyDatabase[];
  readonly secrets: readonly string[];
}

export interface BatchResult {
  readonly changes: number;
  /** Changes skipped because the target had applied them before (after a restart). */
  readonly skipped: number;
}

/**
 * Applies a batch of source transactions, in commit order: per target database one transaction
 * holding that target's share of the changes plus its new position in `follow_state`. A target
 * whose position is already past a source transaction skips it, which makes a replay after a
 * crash (some targets committed, others not) exact. The state row is locked first, so two
 * followers racing on one target cannot both apply.
 */
export async function applyBatch(ctx: ApplySide, slot: string, txs: readonly SourceTransaction[], targetOf: (t: TableApplier) => ApplyDatabase): Promise<BatchResult> {
  const last = txs[txs.length - 1];
  if (!last) return { changes: 0, skipped: 0 };
  const byTarget = new Map<ApplyDatabase, { tx: SourceTransaction; changes: Change[] }[]>();
  const barrier = txs.some((t) => t.barrier);
  if (barrier) for (const t of ctx.targets) byTarget.set(t, []);
  for (const tx of txs) {
    const parts = new Map<ApplyDatabase, Change[]>();
    for (const ch of tx.changes) {
      const tables = ch.op === 'truncate' ? ch.tables : [ch.table];
      for (const target of new Set(tables.map(targetOf))) {
        const sub = ch.op === 'truncate' ? { ...ch, tables: ch.tables.filter((t) => targetOf(t) === target) } : ch;
        parts.set(target, [...(parts.get(target) ?? []), sub]);
      }
    }
    for (const [target, changes] of parts) {
      const list = byTarget.get(target) ?? [];
      list.push({ tx, changes });
      byTarget.set(target, list);
    }
  }
  let changes = 0;
  let skipped = 0;
  for (const [target, list] of byTarget) {
    const r = await applyToTarget(ctx, target, slot, list, last);
    changes += r.changes;
    skipped += r.skipped;
  }
  return { changes, skipped };
}

async function applyToTarget(
  ctx: ApplySide, target: ApplyDatabase, slot: string, list: readonly { tx: SourceTransaction; changes: Change[] }[], last: SourceTransaction,
): Promise<BatchResult> {
  const c = await connectTo(target.pool, target.label, ctx.secrets);
  let failed = false;
  try {
    await c.query('BEGIN');
    if (target.replicaRole) await c.query('SET LOCAL session_replication_role = replica');
    const state = await readFollowState(c, slot, true);
    if (!state) throw new Error(`this database does not follow slot ${slot} (no row in _vendhub_split.follow_state)`);
    let changes = 0;
    let skipped = 0;
    for (const { tx, changes: chs } of list) {
      if (lsnAtLeast(state.appliedLsn, tx.commitEndLsn)) {
        skipped += chs.length;
        continue;
      }
      for (const ch of chs) await applyChange(c, ch);
      changes += chs.length;
    }
    if (!lsnAtLeast(state.appliedLsn, last.commitEndLsn)) await writeFollowState(c, slot, last.commitEndLsn, last.commitTime);
    await c.query('COMMIT');
    return { changes, skipped };
  } catch (e) {
    failed = true;
    await c.query('ROLLBACK').catch(() => {});
    throw wrapPgError(e, target.label, [...ctx.secrets]);
  } finally {
    c.release(failed);
  }
}

async function applyChange(c: pg.ClientBase, ch: Change): Promise<void> {
  if (ch.op === 'upsert') {
    // A changed key (identity sent as old/key): the old row goes, the new one is upserted.
    if (ch.table.keyChanged(ch.old, ch.row)) await ch.table.delete(c, ch.old as SourceRow);
    await ch.table.upsert(c, ch.row);
  } else if (ch.op === 'delete') {
    await ch.table.delete(c, ch.key);
  } else if (ch.tables.length) {
    await c.query(`TRUNCATE ${ch.tables.map((t) => t.targetName).join(', ')}`);
  }
}
