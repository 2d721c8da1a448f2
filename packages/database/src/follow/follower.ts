import type pg from 'pg';
import { LogicalReplicationService, PgoutputPlugin, type Pgoutput } from 'pg-logical-replication';
import type { Env } from '../config/database-config.ts';
import { wrapPgError } from '../errors/pg-errors.ts';
import { VendhubError } from '../errors/vendhub-error.ts';
import { loadPlan, type LoadedPlan } from '../split/load-plan.ts';
import type { PlanFile } from '../split/plan-file.ts';
import { replicationConfig } from '../db/database-handle.ts';
import { connectTo, openSplitContext, type SplitContext, type TargetDatabase } from '../split/split-context.ts';
import { applyBatch, isPartial, StreamedTransaction, type ApplyDatabase, type ApplySide, type SourceTransaction, type StreamItem } from './change-applier.ts';
import { TransactionAssembler } from './transaction-assembler.ts';
import { followNames, type FollowNames } from './follow-names.ts';
import { followPreflight } from './follow-preflight.ts';
import { readFollowState } from './follow-state.ts';
import { bigIntToLsn, lsnToBigInt, maxLsn } from './lsn.ts';
import { slotStatus } from './replication-slot.ts';
import { TableApplier } from './table-applier.ts';

export interface FollowProgress {
  readonly appliedLsn: string;
  readonly transactions: number;
  readonly changes: number;
  readonly changesPerSecond: number;
  /** pg_current_wal_lsn() - the slot's confirmed position. */
  readonly lagBytes: number;
  /** Age of the oldest received, not yet applied transaction (0 when caught up). */
  readonly lagSeconds: number;
  readonly retainedWalBytes: number;
  readonly queuedChanges: number;
  readonly warning?: string;
}

export interface FollowOptions {
  readonly planFile?: PlanFile;
  readonly slot?: string;
  readonly signal?: AbortSignal;
  /** Stop once the fence marker with this id (see cutover) is applied in every target. */
  readonly stopAtMarker?: string;
  readonly onProgress?: (p: FollowProgress) => void;
  readonly progressIntervalMs?: number;
  /** Changes per target transaction, at most (whole source transactions are never split). */
  readonly batchChanges?: number;
  /** Received, unapplied changes at which the stream is paused (backpressure). */
  readonly maxQueuedChanges?: number;
  /** Warn when the slot keeps more WAL than this on the source. */
  readonly maxRetainedWalBytes?: number;
}

export interface FollowResult {
  /** interrupted: signal; fence: stopAtMarker applied; slot-released: another process (cutover, abort, rollback, end-rollback-window) took the slot or dropped it. */
  readonly reason: 'interrupted' | 'fence' | 'slot-released';
  readonly appliedLsn: string;
  readonly transactions: number;
  readonly changes: number;
  readonly skipped: number;
  /** Most changes held in memory at once (received, not yet applied): bounded by about maxQueuedChanges + batchChanges. */
  readonly peakQueuedChanges: number;
  readonly durationMs: number;
}

/**
 * `vendhub-db split follow`: streams the source's changes from the slot of `split run --follow`
 * and applies them to the targets until interrupted, fenced, or the slot is taken by `cutover` or
 * `abort`. Restart-safe: it resumes from the slot and each target skips what it already applied.
 */
export async function followSource(env: Env, opts: FollowOptions = {}): Promise<FollowResult> {
  const ctx = openSplitContext(env, { parallel: 2 });
  try {
    return await followWithContext(ctx, opts);
  } finally {
    await ctx.close();
  }
}

/** The follower on an open context (cutover runs it in-process). */
export async function followWithContext(ctx: SplitContext, opts: FollowOptions, preloaded?: LoadedPlan): Promise<FollowResult> {
  const names = followNames(opts.slot);
  const loaded = preloaded ?? (await loadPlan(ctx, opts.planFile ?? {}));
  const src = await connectTo(ctx.source.pool, ctx.source.label, ctx.secrets);
  let startAck: string;
  try {
    if (!preloaded) await followPreflight(src, loaded);
    const s = await slotStatus(src, names.slot);
    if (!s.exists) throw new VendhubError('PREFLIGHT_FAILED', `the source has no replication slot ${names.slot}`, { hint: 'Start with `vendhub-db split run --follow`.' });
    if (s.activePid !== null) throw new VendhubError('PREFLIGHT_FAILED', `the slot ${names.slot} is in use by another follower (process ${s.activePid} on the source)`, { hint: 'Stop that follower first; only one may stream from a slot.' });
    startAck = s.confirmedFlushLsn as string;
  } catch (e) {
    throw wrapPgError(e, ctx.source.label, [...ctx.secrets]);
  } finally {
    src.release();
  }
  for (const t of ctx.targets) {
    const c = await connectTo(t.pool, t.label, ctx.secrets);
    try {
      const st = await readFollowState(c, names.slot);
      if (!st) throw new VendhubError('PREFLIGHT_FAILED', `${t.label} has no follow state for slot ${names.slot}: it was not copied by \`split run --follow\``);
    } finally {
      c.release();
    }
  }
  const appliers = new Map<string, TableApplier>();
  const targetOf = new Map<TableApplier, TargetDatabase>();
  for (const m of loaded.plan.tables) {
    const a = new TableApplier(m, loaded.targetTables.get(m.service)?.get(m.targetTable)?.primaryKey ?? []);
    appliers.set(`${m.sourceSchema}.${m.sourceTable}`, a);
    targetOf.set(a, ctx.targetFor(m.service));
  }
  const from: StreamSource = { connection: replicationConfig(ctx.source.connection), pool: ctx.source.pool, label: ctx.source.label, names };
  return stream({ from, to: ctx, appliers, targetOf: (a) => targetOf.get(a) as TargetDatabase, startAck, wording: FORWARD_WORDING }, opts);
}

/** Where a change stream comes from: the database that holds the slot and the publication. */
export interface StreamSource {
  /** Connection settings for the replication connection (a direct one: not through PgBouncer). */
  readonly connection: Readonly<pg.PoolConfig>;
  /** For status queries on that database. */
  readonly pool: pg.Pool;
  readonly label: string;
  readonly names: FollowNames;
}

/** What a stream's messages tell the operator. */
export interface StreamWording {
  /** Where the slot keeps WAL, e.g. "the source". */
  readonly where: string;
  /** What to do after the stream failed. */
  readonly resumeHint: string;
  /** What to do about a slot that retains too much WAL. */
  readonly retainedAdvice: string;
}

const FORWARD_WORDING: StreamWording = {
  where: 'the source',
  resumeHint: 'Fix the cause, then run `vendhub-db split follow` again: it resumes where each target stopped.',
  retainedAdvice: 'cut over soon or abort, or the source disk fills',
};

/** One change stream: from a slot, through the appliers (keyed by the streamed "schema.table"), into `to`. */
export interface StreamSpec {
  readonly from: StreamSource;
  readonly to: ApplySide;
  readonly appliers: ReadonlyMap<string, TableApplier>;
  readonly targetOf: (a: TableApplier) => ApplyDatabase;
  /** The slot's confirmed position when the stream starts. */
  readonly startAck: string;
  readonly wording: StreamWording;
}

export type StreamOptions = Omit<FollowOptions, 'planFile' | 'slot'>;

/**
 * Streams one slot and applies whole transactions in commit order, in batches, acknowledging to
 * the slot only what every database of `to` committed; ends on the signal, on `stopAtMarker`
 * applied, or when another process takes the slot.
 */
/** A transaction received in one piece (not the end of one applied while it arrived). */
const isWhole = (i: StreamItem): boolean => !isPartial(i) && !i.streamedFrom;

export function stream(spec: StreamSpec, opts: StreamOptions): Promise<FollowResult> {
  const { from, to, appliers, targetOf, startAck, wording } = spec;
  const names = from.names;
  const started = performance.now();
  const batchChanges = opts.batchChanges ?? 5_000;
  const maxQueued = opts.maxQueuedChanges ?? 50_000;
  const service = new LogicalReplicationService(from.connection as pg.ClientConfig, { acknowledge: { auto: false, timeoutSeconds: 0 } });
  const plugin = new PgoutputPlugin({ protoVersion: 1, publicationNames: [names.publication], messages: true });
  // The socket under the library, paused while too much is queued (the library offers no public handle).
  // The library reports `lsn + 1` as flushed (it takes the LSN for a last byte); ours are end
  // positions already. Without the -1 the slot would confirm one byte past a commit, and a
  // transaction whose commit record starts exactly there would be skipped after a restart.
  const ack = (lsn: string, ping = false) => service.acknowledge(bigIntToLsn(lsnToBigInt(lsn) - 1n), ping);
  const socket = () => (service as unknown as { _connection?: { stream?: { pause(): void; resume(): void } } })._connection?.stream;
  const queue: StreamItem[] = [];
  /** A large source transaction being applied while it arrives (see StreamedTransaction). */
  let open: StreamedTransaction | undefined;
  let peakQueued = 0;
  let queued = 0;
  let paused = false;
  let ackLsn = startAck;
  let appliedLsn = startAck;
  let flushing: Promise<void> | null = null;
  let stats = { transactions: 0, changes: 0, skipped: 0 };
  let finished = false;
  let lastCommit: Date | undefined;

  return new Promise<FollowResult>((resolve, reject) => {
    const timers: NodeJS.Timeout[] = [];
    const finish = async (reason: FollowResult['reason'] | Error) => {
      if (finished) return;
      finished = true;
      for (const t of timers) clearInterval(t);
      opts.signal?.removeEventListener('abort', onAbort);
      // An error comes from the flush itself (or a dead stream): waiting for the flush would wait on itself.
      if (flushing && !(reason instanceof Error)) await flushing.catch(() => {});
      // A large transaction cut off before its commit: the databases drop what they applied of it.
      await open?.rollback();
      await service.destroy().catch(() => {});
      if (reason instanceof Error) reject(reason);
      else resolve({ reason, appliedLsn, ...stats, peakQueuedChanges: peakQueued, durationMs: Math.round(performance.now() - started) });
    };
    const onAbort = () => void finish('interrupted');
    if (opts.signal?.aborted) return void finish('interrupted');
    opts.signal?.addEventListener('abort', onAbort);

    const applied = (n: number) => {
      queued -= n;
      if (paused && queued < maxQueued / 2) {
        paused = false;
        socket()?.resume();
      }
    };
    const committed = async (batch: readonly SourceTransaction[], r: { changes: number; skipped: number }) => {
      const last = batch[batch.length - 1] as SourceTransaction;
      appliedLsn = maxLsn(appliedLsn, last.commitEndLsn);
      if (last.changes.length || last.streamedFrom) lastCommit = last.commitTime;
      ackLsn = maxLsn(ackLsn, last.commitEndLsn);
      stats = { transactions: stats.transactions + batch.length, changes: stats.changes + r.changes, skipped: stats.skipped + r.skipped };
      await ack(ackLsn);
    };
    const flush = async () => {
      while (queue.length && !finished) {
        const head = queue[0] as StreamItem;
        if (!isWhole(head)) {
          // A large transaction: its pieces go to the databases as they come, committed with the last.
          open ??= new StreamedTransaction(to, names.slot, isPartial(head) ? head.commitLsn : (head.streamedFrom as string), targetOf);
          if (isPartial(head)) {
            const r = await open.apply(head.changes);
            queue.shift();
            stats = { ...stats, changes: stats.changes + r.changes, skipped: stats.skipped + r.skipped };
            applied(head.changes.length);
            continue;
          }
          const r = await open.commit(head);
          open = undefined;
          queue.shift();
          applied(head.changes.length);
          await committed([head], r);
          if (opts.stopAtMarker && head.markers?.includes(opts.stopAtMarker)) return void finish('fence');
          continue;
        }
        let n = 0;
        let take = 0;
        while (take < queue.length && isWhole(queue[take] as StreamItem) && (take === 0 || n + (queue[take] as SourceTransaction).changes.length <= batchChanges)) n += (queue[take++] as SourceTransaction).changes.length;
        const batch = queue.slice(0, take) as SourceTransaction[];
        const r = await applyBatch(to, names.slot, batch, targetOf);
        queue.splice(0, take);
        applied(n);
        await committed(batch, r);
        if (opts.stopAtMarker && batch.some((t) => t.markers?.includes(opts.stopAtMarker as string))) return void finish('fence');
      }
    };
    const kick = () => {
      if (flushing || finished) return;
      flushing = flush()
        .catch((e) => finish(e instanceof VendhubError ? new VendhubError('COPY_FAILED', `applying changes failed: ${e.message}`, { cause: e, hint: wording.resumeHint }) : e))
        .finally(() => {
          flushing = null;
          if (queue.length) kick();
        });
    };
    const enqueue = (tx: StreamItem) => {
      queue.push(tx);
      queued += tx.changes.length;
      peakQueued = Math.max(peakQueued, queued);
      if (!paused && queued >= maxQueued) {
        paused = true;
        socket()?.pause();
      }
      kick();
    };

    // A transaction larger than a batch is applied in batch-sized pieces while it arrives.
    const assembler = new TransactionAssembler(appliers, batchChanges);
    service.on('data', (_lsn: string, msg: Pgoutput.Message) => {
      const tx = assembler.push(msg);
      if (tx) enqueue(tx);
    });
    service.on('heartbeat', (lsn: string, _ts: number, shouldRespond: boolean) => {
      // Nothing received is pending: the slot may move up to the server's position (frees WAL).
      if (!assembler.inTransaction && queue.length === 0 && !flushing) ackLsn = maxLsn(ackLsn, lsn);
      if (shouldRespond) void ack(ackLsn);
    });
    service.on('error', (e: Error) => void onStreamEnd(e));
    const onStreamEnd = async (e?: Error) => {
      if (finished) return;
      // Terminated by cutover, abort, rollback or end-rollback-window (they stop the slot's reader before taking it): not a failure.
      const c = await connectTo(from.pool, from.label, to.secrets).catch(() => undefined);
      const s = c ? await slotStatus(c, names.slot).catch(() => undefined) : undefined;
      c?.release();
      if (s && (!s.exists || (s.activePid !== null))) return void finish('slot-released');
      if (s && /terminat/i.test(String(e?.message))) return void finish('slot-released');
      await finish(wrapPgError(e ?? new Error('the replication stream ended'), from.label, [...to.secrets]));
    };

    let last = { at: performance.now(), changes: 0 };
    timers.push(setInterval(() => {
      void ack(ackLsn, true).catch(() => {});
      if (!opts.onProgress) return;
      void (async () => {
        const c = await connectTo(from.pool, from.label, to.secrets).catch(() => undefined);
        if (!c) return;
        try {
          const s = await slotStatus(c, names.slot);
          const now = performance.now();
          // Seconds behind: the oldest received, unapplied commit; with nothing received but the
          // server still far ahead, the age of the last applied commit.
          const oldest = queue[0]?.commitTime ?? (s.lagBytes > 1024 * 1024 ? lastCommit : undefined);
          const maxRetained = opts.maxRetainedWalBytes ?? 1024 ** 3;
          opts.onProgress?.({
            appliedLsn, transactions: stats.transactions, changes: stats.changes, queuedChanges: queued,
            changesPerSecond: Math.round(((stats.changes - last.changes) / (now - last.at)) * 1000),
            lagBytes: s.lagBytes, lagSeconds: oldest ? Math.max(0, (Date.now() - oldest.getTime()) / 1000) : 0, retainedWalBytes: s.retainedBytes,
            ...(s.retainedBytes > maxRetained ? { warning: `the slot ${names.slot} retains ${(s.retainedBytes / 1024 ** 2).toFixed(0)} MB of WAL on ${wording.where} (limit ${(maxRetained / 1024 ** 2).toFixed(0)} MB): ${wording.retainedAdvice}` } : {}),
          });
          last = { at: now, changes: stats.changes };
        } finally {
          c.release();
        }
      })().catch(() => {});
    }, opts.progressIntervalMs ?? 2_000));

    service.subscribe(plugin, names.slot).then(() => onStreamEnd(), (e: Error) => onStreamEnd(e));
  });
}
