import type pg from 'pg';
import type { VendhubError } from '../errors/vendhub-error.ts';
import { openTransaction, withDatabase, type OpenTransaction } from '../db/with-database.ts';
import { applyError } from './apply-error.ts';
import { readFollowState, writeFollowState, type FollowState } from './follow-state.ts';
import { lsnAtLeast, lsnToBigInt } from './lsn.ts';
import type { SourceRow, TableApplier } from './table-applier.ts';
import { TouchedKeys } from './verify-state.ts';

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
  /**
   * Set when the transaction was too large to hold: its earlier changes came as `PartialTransaction`s
   * (already applied, uncommitted, in the targets) and these are the last ones. The start of its
   * commit record (from the begin message).
   */
  readonly streamedFrom?: string;
  /**
   * Set when a change of this transaction has a table shape the plan does not know (a column
   * added, renamed or dropped on the source, a table renamed): nothing of it may be applied.
   */
  readonly shapeError?: VendhubError;
}

/** The changes so far of a source transaction still open, sent ahead so that memory stays bounded. */
export interface PartialTransaction {
  readonly partial: true;
  /** Where the transaction's commit record starts (pgoutput's begin message): orders it and decides a replay. */
  readonly commitLsn: string;
  /** The source transaction's commit time (from its begin message). */
  readonly commitTime: Date;
  readonly changes: readonly Change[];
  readonly shapeError?: VendhubError;
}

export type StreamItem = SourceTransaction | PartialTransaction;

export const isPartial = (i: StreamItem): i is PartialTransaction => 'partial' in i;

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
  /**
   * Record the keys each change touches in `_vendhub_split.follow_touched`, in the transaction
   * that applies it (the forward follower into the targets; see verify-state.ts).
   */
  readonly recordTouched?: boolean;
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
    for (const [target, changes] of byDatabase(tx.changes, targetOf)) {
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

/** Each database's share of `changes`, in order (a truncate split by database). */
function byDatabase(changes: readonly Change[], targetOf: (t: TableApplier) => ApplyDatabase): Map<ApplyDatabase, Change[]> {
  const parts = new Map<ApplyDatabase, Change[]>();
  for (const ch of changes) {
    const tables = ch.op === 'truncate' ? ch.tables : [ch.table];
    for (const target of new Set(tables.map(targetOf))) {
      const sub = ch.op === 'truncate' ? { ...ch, tables: ch.tables.filter((t) => targetOf(t) === target) } : ch;
      let list = parts.get(target);
      if (list === undefined) parts.set(target, (list = []));
      list.push(sub);
    }
  }
  return parts;
}

/**
 * A source transaction too large to hold in memory, applied while it arrives: each database it
 * touches gets one transaction, opened at its first change and kept open (its follow_state row
 * locked) until the source transaction's commit arrives; then each records the position and
 * commits, as `applyBatch` would have. Stopped or crashed before that, the databases roll back and
 * the slot (never acknowledged past it) sends the whole transaction again. A database whose
 * position is already past the transaction's commit record (it committed it before a restart)
 * skips its changes.
 */
export class StreamedTransaction {
  readonly #ctx: ApplySide;
  readonly #slot: string;
  readonly #commitLsn: bigint;
  readonly #commitLsnText: string;
  readonly #targetOf: (t: TableApplier) => ApplyDatabase;
  readonly #open = new Map<ApplyDatabase, { readonly tx: OpenTransaction; readonly appliedLsn: string; readonly skip: boolean }>();

  constructor(ctx: ApplySide, slot: string, commitLsn: string, targetOf: (t: TableApplier) => ApplyDatabase) {
    this.#ctx = ctx;
    this.#slot = slot;
    this.#commitLsn = lsnToBigInt(commitLsn);
    this.#commitLsnText = commitLsn;
    this.#targetOf = targetOf;
  }

  /** Applies some changes of the transaction (uncommitted). */
  async apply(changes: readonly Change[]): Promise<BatchResult> {
    let applied = 0;
    let skipped = 0;
    for (const [target, chs] of byDatabase(changes, this.#targetOf)) {
      const t = await this.#begin(target);
      if (t.skip) {
        skipped += chs.length;
        continue;
      }
      await applyChanges(t.tx.client, target, chs, this.#ctx.secrets);
      if (this.#ctx.recordTouched) {
        // The commit record's start: at or past a verify base exactly when the transaction is after it.
        const touched = new TouchedKeys();
        touched.add(chs, this.#commitLsnText);
        await touched.record(t.tx.client, this.#slot).catch((e: unknown) => { throw applyError(e, target.label, undefined, this.#ctx.secrets, t.tx.client); });
      }
      applied += chs.length;
    }
    return { changes: applied, skipped };
  }

  /** The last changes and the commit: every database records the position and commits. */
  async commit(tx: SourceTransaction): Promise<BatchResult> {
    const r = await this.apply(tx.changes);
    if (tx.barrier) for (const t of this.#ctx.targets) await this.#begin(t);
    for (const [target, t] of this.#open) {
      try {
        if (!lsnAtLeast(t.appliedLsn, tx.commitEndLsn)) await writeFollowState(t.tx.client, this.#slot, tx.commitEndLsn, tx.commitTime);
        await t.tx.commit();
      } catch (e) {
        throw applyError(e, target.label, undefined, this.#ctx.secrets, t.tx.client);
      }
      this.#open.delete(target);
    }
    return r;
  }

  /** Rolls back whatever is open; idempotent. */
  async rollback(): Promise<void> {
    for (const [target, t] of this.#open) {
      this.#open.delete(target);
      await t.tx.rollback();
    }
  }

  async #begin(target: ApplyDatabase): Promise<{ readonly tx: OpenTransaction; readonly appliedLsn: string; readonly skip: boolean }> {
    const open = this.#open.get(target);
    if (open) return open;
    const tx = await beginApply(target, this.#slot, this.#ctx.secrets);
    // Positions are commit ends; past this commit record's start means this transaction is in.
    const t = { tx: tx.tx, appliedLsn: tx.state.appliedLsn, skip: lsnToBigInt(tx.state.appliedLsn) > this.#commitLsn };
    this.#open.set(target, t);
    return t;
  }
}

/**
 * Records `lsn` as applied in the first database of `ctx`, for a position about to be acknowledged
 * to the slot that no database recorded (transactions without mapped changes, an idle stream's
 * server position): the slot then never confirms more than the databases hold, which is how a
 * recreated slot is told apart (see slot-health.ts). Nothing before `lsn` is pending there.
 */
export async function recordPosition(ctx: ApplySide, slot: string, lsn: string): Promise<void> {
  const target = ctx.targets[0];
  if (!target) return;
  try {
    await withDatabase(ctx, target, (c) => writeFollowState(c, slot, lsn, null));
  } catch (e) {
    throw applyError(e, target.label, undefined, ctx.secrets);
  }
}

async function applyToTarget(
  ctx: ApplySide, target: ApplyDatabase, slot: string, list: readonly { tx: SourceTransaction; changes: Change[] }[], last: SourceTransaction,
): Promise<BatchResult> {
  const { tx, state } = await beginApply(target, slot, ctx.secrets);
  const c = tx.client;
  try {
    let changes = 0;
    let skipped = 0;
    const touched = ctx.recordTouched ? new TouchedKeys() : undefined;
    for (const { tx: source, changes: chs } of list) {
      if (lsnAtLeast(state.appliedLsn, source.commitEndLsn)) {
        skipped += chs.length;
        continue;
      }
      await applyChanges(c, target, chs, ctx.secrets);
      touched?.add(chs, source.commitEndLsn);
      changes += chs.length;
    }
    await touched?.record(c, slot);
    if (!lsnAtLeast(state.appliedLsn, last.commitEndLsn)) await writeFollowState(c, slot, last.commitEndLsn, last.commitTime);
    await tx.commit();
    return { changes, skipped };
  } catch (e) {
    const err = applyError(e, target.label, undefined, ctx.secrets, c);
    await tx.rollback();
    throw err;
  }
}

/**
 * Opens the transaction that applies changes to `target` (as a subscriber, `replicaRole`, when
 * asked): its follow_state row for `slot`, read and locked.
 */
async function beginApply(target: ApplyDatabase, slot: string, secrets: readonly string[]): Promise<{ tx: OpenTransaction; state: FollowState }> {
  const tx = await openTransaction(target, { secrets, ...(target.replicaRole ? { local: { session_replication_role: 'replica' } } : {}) }).catch((e: unknown) => {
    throw applyError(e, target.label, undefined, secrets);
  });
  try {
    const state = await readFollowState(tx.client, slot, true);
    if (!state) throw new Error(`this database does not follow slot ${slot} (no row in _vendhub_split.follow_state)`);
    return { tx, state };
  } catch (e) {
    const err = applyError(e, target.label, undefined, secrets, tx.client);
    await tx.rollback();
    throw err;
  }
}

/** Applies the changes to one database, naming the change that failed (table and key). */
async function applyChanges(c: pg.ClientBase, target: ApplyDatabase, chs: readonly Change[], secrets: readonly string[]): Promise<void> {
  for (const ch of chs) {
    try {
      await applyChange(c, ch);
    } catch (e) {
      throw applyError(e, target.label, ch, secrets, c);
    }
  }
}

async function applyChange(c: pg.ClientBase, ch: Change): Promise<void> {
  if (ch.op === 'upsert' && ch.table.matchesWholeRows) await ch.table.applyRow(c, ch.old, ch.row);
  else if (ch.op === 'delete' && ch.table.matchesWholeRows) await ch.table.deleteRow(c, ch.key);
  else if (ch.op === 'upsert') {
    // A changed key (identity sent as old/key): an UPDATE of the key, found by the old one.
    if (ch.old && ch.table.keyChanged(ch.old, ch.row)) await ch.table.updateKey(c, ch.old, ch.row);
    else await ch.table.upsert(c, ch.row);
  } else if (ch.op === 'delete') {
    await ch.table.delete(c, ch.key);
  } else if (ch.tables.length) {
    await c.query(`TRUNCATE ${ch.tables.map((t) => t.targetName).join(', ')}`);
  }
}
