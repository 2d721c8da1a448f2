import { VendhubError } from '../errors/vendhub-error.ts';
import { withDatabase } from '../db/with-database.ts';
import { applyBatch, isPartial, recordPosition, StreamedTransaction, type ApplyDatabase, type ApplySide, type BatchResult, type SourceTransaction, type StreamItem } from './change-applier.ts';
import { readFollowState } from './follow-state.ts';
import { lsnAtLeast, lsnToBigInt, maxLsn } from './lsn.ts';
import type { TableApplier } from './table-applier.ts';

export interface ApplyStageSpec {
  readonly to: ApplySide;
  readonly slot: string;
  readonly targetOf: (a: TableApplier) => ApplyDatabase;
  /** Changes per target transaction, at most (whole source transactions are never split). */
  readonly batchChanges: number;
  /** Received, unapplied changes at which the receiver is paused. */
  readonly maxQueuedChanges: number;
  readonly stopAtMarker?: string;
  /** The slot's confirmed position when the stream starts. */
  readonly startAck: string;
  /** The highest position any database of `to` recorded when the stream starts. */
  readonly recordedLsn: string;
  readonly resumeHint: string;
}

export interface ApplyStageEvents {
  /** Too much is queued (true) or the queue drained to half (false): pause or resume receiving. */
  backpressure(paused: boolean): void;
  /** Every database committed up to `lsn` (and one recorded it): acknowledge it to the slot. */
  acknowledge(lsn: string): Promise<unknown>;
  /** The fence marker was applied, or applying failed. */
  done(reason: 'fence' | Error): void;
}

/** A pause of the apply stage at one position of the stream (see `ApplyStage.holdAt`). */
interface Hold {
  /** Unknown while the position is being found: nothing is applied meanwhile. */
  limit?: bigint;
  readonly atLimit: () => Promise<void>;
  resolve(): void;
  reject(e: Error): void;
}

/** True when `item` committed after `limit` (a snapshot taken at `limit` does not hold it). */
function beyond(item: StreamItem, limit: bigint): boolean {
  if (isPartial(item)) return lsnToBigInt(item.commitLsn) >= limit;
  if (item.streamedFrom) return lsnToBigInt(item.streamedFrom) >= limit;
  return lsnToBigInt(item.commitEndLsn) > limit;
}

/** A transaction received in one piece (not the end of one applied while it arrived). */
const isWhole = (i: StreamItem): i is SourceTransaction => !isPartial(i) && !i.streamedFrom;

/**
 * The apply stage of a change stream: holds what was received and not yet applied (bounded: the
 * receiver is paused beyond `maxQueuedChanges`), applies whole source transactions in commit order
 * in batches (a large one in pieces while it arrives, see StreamedTransaction), and acknowledges
 * to the slot only what every database committed, after one of them recorded the position. A
 * transaction whose table changed shape is not applied: the stage ends with its error, after
 * everything before it (unless every database already has it, after a restart).
 */
export class ApplyStage {
  readonly #spec: ApplyStageSpec;
  readonly #events: ApplyStageEvents;
  readonly #queue: StreamItem[] = [];
  #open: StreamedTransaction | undefined;
  #flushing: Promise<void> | null = null;
  #queued = 0;
  #paused = false;
  #stopped = false;
  #recordedLsn: string;
  #advancing = false;
  #hold: Hold | undefined;
  peakQueued = 0;
  ackLsn: string;
  appliedLsn: string;
  stats = { transactions: 0, changes: 0, skipped: 0 };
  /** Commit time of the last applied transaction with changes. */
  lastCommit: Date | undefined;

  constructor(spec: ApplyStageSpec, events: ApplyStageEvents) {
    this.#spec = spec;
    this.#events = events;
    this.ackLsn = spec.startAck;
    this.appliedLsn = spec.startAck;
    this.#recordedLsn = spec.recordedLsn;
  }

  get queuedChanges(): number {
    return this.#queued;
  }

  /** Nothing received is waiting or being applied. */
  get idle(): boolean {
    return this.#queue.length === 0 && !this.#flushing;
  }

  /** Commit time of the oldest received, unapplied transaction. */
  get oldestCommitTime(): Date | undefined {
    return this.#queue[0]?.commitTime;
  }

  push(item: StreamItem): void {
    this.#queue.push(item);
    this.#queued += item.changes.length;
    this.peakQueued = Math.max(this.peakQueued, this.#queued);
    if (!this.#paused && this.#queued >= this.#spec.maxQueuedChanges) {
      this.#paused = true;
      this.#events.backpressure(true);
    }
    this.#kick();
  }

  /**
   * The server's position while nothing is pending: recorded in a database, then acknowledged
   * (frees WAL on an idle source). Ignored while something is applied or recorded.
   */
  async advanceIdle(lsn: string): Promise<void> {
    if (this.#advancing || this.#stopped || !this.idle || lsnAtLeast(this.ackLsn, lsn)) return;
    this.#advancing = true;
    try {
      await this.#record(lsn);
      if (this.idle) this.ackLsn = maxLsn(this.ackLsn, lsn);
    } finally {
      this.#advancing = false;
    }
  }

  /**
   * Pauses applying at one position of the stream, for a snapshot of the targets that matches a
   * snapshot of the source (the background verify). Applying stops after the batch in flight;
   * `findLimit` then returns the position (a source snapshot's consistent point, with a change
   * committed after it already on its way, so the stream reaches past it); every transaction that
   * committed before it is applied, none after; `atLimit` runs (exports the targets' snapshots);
   * applying resumes. Rejects when `findLimit` or `atLimit` fails or the stage stops first.
   */
  async holdAt(findLimit: () => Promise<string>, atLimit: () => Promise<void>): Promise<void> {
    if (this.#stopped) throw new Error('the follower stopped');
    if (this.#hold) throw new Error('a hold is already in progress');
    let hold!: Hold;
    const done = new Promise<void>((resolve, reject) => { hold = { atLimit, resolve, reject }; });
    this.#hold = hold;
    try {
      await this.#flushing?.catch(() => {});
      hold.limit = lsnToBigInt(await findLimit());
    } catch (e) {
      this.#release(hold, e as Error);
    }
    this.#kick();
    return done;
  }

  #release(hold: Hold, error?: Error): void {
    if (this.#hold !== hold) return;
    this.#hold = undefined;
    if (error) hold.reject(error);
    else hold.resolve();
    this.#kick();
  }

  /** Stops applying: waits for a batch being applied (unless it failed), rolls back a large transaction cut off before its commit. */
  async stop(waitForBatch: boolean): Promise<void> {
    if (this.#hold) this.#release(this.#hold, new Error('the follower stopped'));
    this.#stopped = true;
    if (waitForBatch && this.#flushing) await this.#flushing.catch(() => {});
    await this.#open?.rollback();
    this.#open = undefined;
  }

  #kick(): void {
    if (this.#flushing || this.#stopped || (this.#hold && this.#hold.limit === undefined)) return;
    this.#flushing = this.#flush()
      .then((fence) => {
        if (fence) this.#finish('fence');
      }, (e: unknown) => {
        const err = e instanceof VendhubError && e.code === 'INTERNAL'
          ? new VendhubError('COPY_FAILED', `applying changes failed: ${e.message}`, { cause: e, details: e.details, hint: this.#spec.resumeHint })
          : (e as Error);
        this.#finish(err);
      })
      .finally(() => {
        this.#flushing = null;
        if (this.#queue.length) this.#kick();
      });
  }

  #finish(reason: 'fence' | Error): void {
    if (this.#stopped) return;
    this.#stopped = true;
    this.#events.done(reason);
  }

  /** Applies the queue; true once the stop marker is applied. */
  async #flush(): Promise<boolean> {
    while (this.#queue.length && !this.#stopped) {
      const head = this.#queue[0] as StreamItem;
      const hold = this.#hold;
      if (hold) {
        if (hold.limit === undefined) return false;
        if (beyond(head, hold.limit)) {
          // Every target committed exactly the transactions before the limit: the pause.
          await hold.atLimit().then(() => this.#release(hold), (e: Error) => this.#release(hold, e));
          continue;
        }
      }
      if (head.shapeError && !(await this.#appliedEverywhere(head))) throw head.shapeError;
      if (!isWhole(head)) {
        if (await this.#applyPiece(head)) return true;
        continue;
      }
      let n = 0;
      let take = 0;
      while (take < this.#queue.length) {
        const next = this.#queue[take] as StreamItem;
        if (!isWhole(next) || (take > 0 && (next.shapeError || n + next.changes.length > this.#spec.batchChanges))) break;
        if (hold?.limit !== undefined && beyond(next, hold.limit)) break;
        n += next.changes.length;
        take++;
      }
      const batch = this.#queue.slice(0, take) as SourceTransaction[];
      const r = await applyBatch(this.#spec.to, this.#spec.slot, batch, this.#spec.targetOf);
      this.#queue.splice(0, take);
      this.#applied(n);
      await this.#committed(batch, r, batch.some((t) => t.changes.length > 0 || t.barrier));
      if (this.#spec.stopAtMarker && batch.some((t) => t.markers?.includes(this.#spec.stopAtMarker as string))) return true;
    }
    return false;
  }

  /** A piece of a large transaction (uncommitted), or its end (committed with the source's commit). */
  async #applyPiece(head: StreamItem): Promise<boolean> {
    const { to, slot, targetOf } = this.#spec;
    this.#open ??= new StreamedTransaction(to, slot, isPartial(head) ? head.commitLsn : (head.streamedFrom as string), targetOf);
    if (isPartial(head)) {
      const r = await this.#open.apply(head.changes);
      this.#queue.shift();
      this.stats = { ...this.stats, changes: this.stats.changes + r.changes, skipped: this.stats.skipped + r.skipped };
      this.#applied(head.changes.length);
      return false;
    }
    const r = await this.#open.commit(head);
    this.#open = undefined;
    this.#queue.shift();
    this.#applied(head.changes.length);
    await this.#committed([head], r, true);
    return Boolean(this.#spec.stopAtMarker && head.markers?.includes(this.#spec.stopAtMarker));
  }

  #applied(n: number): void {
    this.#queued -= n;
    if (this.#paused && this.#queued < this.#spec.maxQueuedChanges / 2) {
      this.#paused = false;
      this.#events.backpressure(false);
    }
  }

  async #committed(batch: readonly SourceTransaction[], r: BatchResult, recorded: boolean): Promise<void> {
    const last = batch[batch.length - 1] as SourceTransaction;
    this.appliedLsn = maxLsn(this.appliedLsn, last.commitEndLsn);
    if (last.changes.length || last.streamedFrom) this.lastCommit = last.commitTime;
    if (recorded) this.#recordedLsn = maxLsn(this.#recordedLsn, last.commitEndLsn);
    this.stats = { transactions: this.stats.transactions + batch.length, changes: this.stats.changes + r.changes, skipped: this.stats.skipped + r.skipped };
    await this.#record(last.commitEndLsn);
    this.ackLsn = maxLsn(this.ackLsn, last.commitEndLsn);
    await this.#events.acknowledge(this.ackLsn);
  }

  /** Makes sure some database recorded `lsn` before the slot is told about it. */
  async #record(lsn: string): Promise<void> {
    if (lsnAtLeast(this.#recordedLsn, lsn)) return;
    await recordPosition(this.#spec.to, this.#spec.slot, lsn);
    this.#recordedLsn = maxLsn(this.#recordedLsn, lsn);
  }

  /** True when every database already committed this transaction (a replay after a restart). */
  async #appliedEverywhere(item: StreamItem): Promise<boolean> {
    for (const t of this.#spec.to.targets) {
      const st = await withDatabase(this.#spec.to, t, (c) => readFollowState(c, this.#spec.slot));
      if (!st) return false;
      const done = isPartial(item) || item.streamedFrom
        ? lsnToBigInt(st.appliedLsn) > lsnToBigInt(isPartial(item) ? item.commitLsn : (item.streamedFrom as string))
        : lsnAtLeast(st.appliedLsn, item.commitEndLsn);
      if (!done) return false;
    }
    return true;
  }
}
