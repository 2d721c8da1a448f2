import type pg from 'pg';
import { wrapPgError } from '../errors/pg-errors.ts';
import { VendhubError } from '../errors/vendhub-error.ts';
import { loadPlan, type LoadedPlan } from '../split/load-plan.ts';
import type { PlanFile } from '../split/plan-file.ts';
import { replicationConfig } from '../db/database-handle.ts';
import type { SplitContext, TargetDatabase } from '../split/split-context.ts';
import { withDatabase } from '../db/with-database.ts';
import { ApplyStage } from './apply-stage.ts';
import { BackgroundVerify, type BackgroundVerifyOptions } from './background-verify.ts';
import type { ApplyDatabase, ApplySide } from './change-applier.ts';
import { ChangeReceiver, type StreamSource } from './change-receiver.ts';
import { followNames } from './follow-names.ts';
import { followPreflight } from './follow-preflight.ts';
import { readFollowState } from './follow-state.ts';
import { maxLsn } from './lsn.ts';
import { slotStatus } from './replication-slot.ts';
import { assertSlotIntact, type RecordedPosition } from './slot-health.ts';
import { readHandover } from './slot-handover.ts';
import { applyKey, TableApplier } from './table-applier.ts';
import { SOURCE_FIX, TransactionAssembler } from './transaction-assembler.ts';
import { ensureVerifyState } from './verify-state.ts';
import { guardTargets } from './target-write-guard.ts';

export type { StreamSource } from './change-receiver.ts';

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
  /** With a preloaded plan: the source's WAL position before that plan read the catalog (see TransactionAssembler). */
  readonly planLsn?: string;
  /**
   * Verify in the background while following (`split follow --background-verify`): passes on a
   * consistent pair of snapshots whose results `cutover` uses, so that at the fence it re-verifies
   * only the keys changed since (see background-verify.ts).
   */
  readonly backgroundVerify?: BackgroundVerifyOptions;
}

export interface FollowResult {
  /**
   * interrupted: signal; fence: stopAtMarker applied; slot-released: cutover, abort, rollback or
   * end-rollback-window took the slot (each records a handover in the databases the stream
   * applies to before stopping the reader). Any other end of the stream is an error.
   */
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
 * Connections per database a follower with these options uses: the applier's two, and with a
 * background verify pass its workers and the snapshot it holds. The context must have at least these.
 */
export function followConnections(opts: Pick<FollowOptions, 'backgroundVerify'>): number {
  return 2 + (opts.backgroundVerify ? (opts.backgroundVerify.parallel ?? 1) + 1 : 0);
}

/**
 * `vendhub-db split follow`: streams the source's changes from the slot of `split run --follow`
 * and applies them to the targets until interrupted, fenced, or the slot is taken by `cutover` or
 * `abort`. Restart-safe: it resumes from the slot and each target skips what it already applied.
 * Runs on the caller's context (cutover runs it in-process with the plan it read, `preloaded`).
 * The slot is checked first (lost, recreated, in use), before the plan is loaded: nothing is worth
 * doing on a lost slot.
 */
export async function followSource(ctx: SplitContext, opts: FollowOptions = {}, preloaded?: LoadedPlan): Promise<FollowResult> {
  const names = followNames(opts.slot);
  // Into the targets, every applied change also records its key (the fence re-verifies those).
  const to: ApplySide = { targets: ctx.targets, secrets: ctx.secrets, recordTouched: true };
  await streamStart({ connection: replicationConfig(ctx.source.connection), pool: ctx.source.pool, label: ctx.source.label, names }, to, FORWARD_WORDING);
  const planLsn = preloaded ? opts.planLsn : await currentLsn(ctx);
  const loaded = preloaded ?? (await loadPlan(ctx, opts.planFile ?? {}));
  if (!preloaded) {
    await withDatabase(ctx, ctx.source, (src) => followPreflight(src, loaded));
  }
  const appliers = new Map<string, TableApplier>();
  const targetOf = new Map<TableApplier, TargetDatabase>();
  for (const m of loaded.plan.tables) {
    const target = loaded.targetTables.get(m.service)?.get(m.targetTable);
    const shape = loaded.sourceTables.get(m.sourceTable)?.columns.map((c) => c.name);
    const a = new TableApplier(m, applyKey(target), shape);
    appliers.set(`${m.sourceSchema}.${m.sourceTable}`, a);
    targetOf.set(a, ctx.targetFor(m.service));
  }
  if (!preloaded) {
    // The long-running follower (not the catch-up inside cutover's freeze, which prepared this before the fence).
    for (const t of ctx.targets) await withDatabase(ctx, t, (c) => ensureVerifyState(c));
    await guardTargets(ctx, loaded, names.slot);
  }
  const from: StreamSource = { connection: replicationConfig(ctx.source.connection), pool: ctx.source.pool, label: ctx.source.label, names };
  const background = opts.backgroundVerify ? new BackgroundVerify(ctx, loaded, names.slot, opts.backgroundVerify) : undefined;
  try {
    return await stream({ from, to, appliers, targetOf: (a) => targetOf.get(a) as TargetDatabase, wording: FORWARD_WORDING, ...(planLsn ? { planLsn } : {}) }, opts,
      background ? (stage) => background.start(stage) : undefined);
  } finally {
    await background?.stop();
  }
}

/** The source's WAL position now: taken before a plan reads the catalog. */
export async function currentLsn(ctx: SplitContext): Promise<string> {
  return withDatabase(ctx, ctx.source, async (c) => (await c.query<{ lsn: string }>('SELECT pg_current_wal_lsn()::text AS lsn')).rows[0]?.lsn as string);
}

/** What a stream's messages tell the operator. */
export interface StreamWording {
  /** Where the slot keeps WAL, e.g. "the source". */
  readonly where: string;
  /** What to do after the stream failed. */
  readonly resumeHint: string;
  /** What to do about a slot that retains too much WAL. */
  readonly retainedAdvice: string;
  /** What to do about a streamed table that changed shape (see TransactionAssembler). */
  readonly schemaFix?: string;
  /** The command that starts this stream (for "no follow state" messages). */
  readonly startCommand?: string;
}

const FORWARD_WORDING: StreamWording = {
  where: 'the source',
  resumeHint: 'Fix the cause, then run `vendhub-db split follow` again: it resumes where each target stopped.',
  retainedAdvice: 'cut over soon or abort, or the source disk fills',
  schemaFix: SOURCE_FIX,
  startCommand: '`split run --follow`',
};

/** One change stream: from a slot, through the appliers (keyed by the streamed "schema.table"), into `to`. */
export interface StreamSpec {
  readonly from: StreamSource;
  readonly to: ApplySide;
  readonly appliers: ReadonlyMap<string, TableApplier>;
  readonly targetOf: (a: TableApplier) => ApplyDatabase;
  readonly wording: StreamWording;
  /** The streamed database's WAL position before the appliers' shapes were read (see TransactionAssembler). */
  readonly planLsn?: string;
}

export type StreamOptions = Omit<FollowOptions, 'planFile' | 'slot' | 'backgroundVerify'>;

/** Where a stream starts: the slot checked against the databases' positions, and their handover records. */
interface StreamStart {
  readonly startAck: string;
  readonly recordedLsn: string;
  readonly positions: readonly RecordedPosition[];
  /** Per database of `to`: the handover record's sequence when the stream started (0: none). */
  readonly handovers: ReadonlyMap<ApplyDatabase, number>;
}

/**
 * Checks the slot against every database's position before anything else: lost or recreated
 * (SLOT_LOST), missing, in use by another reader (PREFLIGHT). The slot is read first and the
 * positions (and handover records) after it, as `assertSlotIntact` requires: a follower still
 * running records a position before acknowledging it, so positions read later are never behind
 * the slot read earlier; the other order could call a live slot recreated.
 */
async function streamStart(from: StreamSource, to: ApplySide, wording: StreamWording): Promise<StreamStart> {
  const slot = from.names.slot;
  const positions: RecordedPosition[] = [];
  const handovers = new Map<ApplyDatabase, number>();
  const readPositions = async (): Promise<RecordedPosition[]> => {
    for (const t of to.targets) {
      await withDatabase(to, t, async (c) => {
        const st = await readFollowState(c, slot);
        if (!st) throw new VendhubError('PREFLIGHT_FAILED', `${t.label} has no follow state for slot ${slot}: it was not copied by ${wording.startCommand ?? 'the command that starts this stream'}, or that command stopped before its copy finished`, {
          ...(wording.startCommand?.includes('split run --follow') ? { hint: 'If `split run --follow` was interrupted while copying: `split abort` removes its slot and publication, then run it again.' } : {}),
        });
        if (st.status === 'cut-over') throw new VendhubError('PREFLIGHT_FAILED', `${t.label} was already switched over from slot ${slot}: nothing to follow`);
        positions.push({ label: t.label, appliedLsn: st.appliedLsn });
        handovers.set(t, (await readHandover(c, slot))?.seq ?? 0);
      });
    }
    return positions;
  };
  const s = await withDatabase(to, from, (src) => assertSlotIntact(src, slot, from.label, readPositions));
  if (s.activePid !== null) throw new VendhubError('PREFLIGHT_FAILED', `the slot ${slot} is in use by another process (${s.activePid} on ${from.label})`, { hint: 'Stop that follower first; only one may stream from a slot.' });
  const recordedLsn = positions.reduce((m, p) => maxLsn(m, p.appliedLsn), '0/0');
  return { startAck: s.confirmedFlushLsn as string, recordedLsn, positions, handovers };
}

/**
 * Streams one slot through three stages, receive (ChangeReceiver) → assemble
 * (TransactionAssembler) → apply (ApplyStage): whole transactions in commit order, in batches,
 * acknowledged to the slot only once every database of `to` committed them. Ends on the signal,
 * on `stopAtMarker` applied, when a cutover/abort/rollback took the slot (they record that before
 * taking it: "slot-released"), or with an error: a dropped connection (CONNECTION_FAILED, exit 4),
 * a lost slot, a changed table shape, an apply conflict.
 */
export async function stream(spec: StreamSpec, opts: StreamOptions, onStreaming?: (stage: ApplyStage) => void): Promise<FollowResult> {
  const { from, to, appliers, targetOf, wording } = spec;
  const started = performance.now();
  const start = await streamStart(from, to, wording);
  const batchChanges = opts.batchChanges ?? 5_000;

  return new Promise<FollowResult>((resolve, reject) => {
    const timers: NodeJS.Timeout[] = [];
    let finished = false;
    const finish = async (reason: FollowResult['reason'] | Error) => {
      if (finished) return;
      finished = true;
      for (const t of timers) clearInterval(t);
      opts.signal?.removeEventListener('abort', onAbort);
      // An error comes from the apply stage itself (or a dead stream): waiting for it would wait on itself.
      await stage.stop(!(reason instanceof Error));
      await receiver.close();
      if (reason instanceof Error) reject(reason);
      else resolve({ reason, appliedLsn: stage.appliedLsn, ...stage.stats, peakQueuedChanges: stage.peakQueued, durationMs: Math.round(performance.now() - started) });
    };
    const onAbort = () => void finish('interrupted');

    const assembler = new TransactionAssembler(appliers, batchChanges, wording.schemaFix, spec.planLsn);
    const stage: ApplyStage = new ApplyStage({
      to, slot: from.names.slot, targetOf, batchChanges, maxQueuedChanges: opts.maxQueuedChanges ?? 50_000,
      startAck: start.startAck, recordedLsn: start.recordedLsn, resumeHint: wording.resumeHint,
      ...(opts.stopAtMarker ? { stopAtMarker: opts.stopAtMarker } : {}),
    }, {
      backpressure: (paused) => receiver.pause(paused),
      acknowledge: (lsn) => receiver.acknowledge(lsn),
      done: (reason) => void finish(reason),
    });
    const receiver: ChangeReceiver = new ChangeReceiver(from, {
      message: (msg) => {
        const tx = assembler.push(msg);
        if (tx) stage.push(tx);
      },
      heartbeat: (lsn, shouldRespond) => {
        // Nothing received is pending: the slot may move up to the server's position (frees WAL),
        // once a database recorded it.
        const advanced = assembler.inTransaction ? Promise.resolve() : stage.advanceIdle(lsn).catch(() => {});
        if (shouldRespond) void advanced.then(() => receiver.acknowledge(stage.ackLsn)).catch(() => {});
      },
      end: (e) => void streamEnded(spec, start, e).then((r) => finish(r), (err: Error) => finish(err)),
    });

    if (opts.signal?.aborted) return void finish('interrupted');
    opts.signal?.addEventListener('abort', onAbort);
    timers.push(setInterval(() => {
      void receiver.acknowledge(stage.ackLsn, true).catch(() => {});
      if (opts.onProgress) void reportProgress(spec, stage, opts).catch(() => {});
    }, opts.progressIntervalMs ?? 2_000));
    receiver.start();
    onStreaming?.(stage);
  });
}

/**
 * Why the replication stream ended, decided from what the tools wrote, never from the error's
 * text: a handover record newer than at the start (cutover, abort, rollback, end-rollback-window
 * took the slot) is "slot-released"; a slot gone or invalidated is SLOT_LOST; anything else is a
 * lost connection (CONNECTION_FAILED, exit 4), resumable by running the follower again.
 */
async function streamEnded(spec: StreamSpec, start: StreamStart, e?: Error): Promise<FollowResult['reason']> {
  const { from, to, wording } = spec;
  for (const t of to.targets) {
    const seq = await withDatabase(to, t, async (c) => (await readHandover(c, from.names.slot))?.seq ?? 0).catch(() => undefined);
    if (seq !== undefined && seq !== start.handovers.get(t)) return 'slot-released';
  }
  // Gone or invalidated only: the slot confirmed more than at the start, by design. Unreachable
  // or any other error: the lost connection below is the answer.
  await withDatabase(to, from, (src) => assertSlotIntact(src, from.names.slot, from.label, [])).catch((err: unknown) => {
    if (err instanceof VendhubError && err.code === 'SLOT_LOST') throw err;
  });
  const why = e ? wrapPgError(e, from.label, [...to.secrets]).message : `${from.label}: the server ended the stream`;
  throw new VendhubError('CONNECTION_FAILED', `the replication stream from slot ${from.names.slot} ended: ${why}`, {
    cause: e, details: { slot: from.names.slot, where: from.label }, hint: `Nothing is lost (the slot keeps every change not applied). ${wording.resumeHint}`,
  });
}

async function reportProgress(spec: StreamSpec, stage: ApplyStage, opts: StreamOptions): Promise<void> {
  const { from, to, wording } = spec;
  const s = await withDatabase(to, from, (c) => slotStatus(c, from.names.slot));
  const now = performance.now();
  const last = lastReport.get(stage) ?? { at: now, changes: 0 };
  // Seconds behind: the oldest received, unapplied commit; with nothing received but the
  // server still far ahead, the age of the last applied commit.
  const oldest = stage.oldestCommitTime ?? (s.lagBytes > 1024 * 1024 ? stage.lastCommit : undefined);
  const maxRetained = opts.maxRetainedWalBytes ?? 1024 ** 3;
  opts.onProgress?.({
    appliedLsn: stage.appliedLsn, transactions: stage.stats.transactions, changes: stage.stats.changes, queuedChanges: stage.queuedChanges,
    changesPerSecond: now > last.at ? Math.round(((stage.stats.changes - last.changes) / (now - last.at)) * 1000) : 0,
    lagBytes: s.lagBytes, lagSeconds: oldest ? Math.max(0, (Date.now() - oldest.getTime()) / 1000) : 0, retainedWalBytes: s.retainedBytes,
    ...(s.retainedBytes > maxRetained ? { warning: `the slot ${from.names.slot} retains ${(s.retainedBytes / 1024 ** 2).toFixed(0)} MB of WAL on ${wording.where} (limit ${(maxRetained / 1024 ** 2).toFixed(0)} MB): ${wording.retainedAdvice}` } : {}),
  });
  lastReport.set(stage, { at: now, changes: stage.stats.changes });
}

const lastReport = new WeakMap<ApplyStage, { at: number; changes: number }>();
