import { randomBytes } from 'node:crypto';
import { withDatabase, withTransaction } from '../db/with-database.ts';
import type { LoadedPlan } from '../split/load-plan.ts';
import { holdSnapshot, type HeldSnapshot } from '../split/snapshot.ts';
import type { SplitContext } from '../split/split-context.ts';
import { verifySplit } from '../split/verify-split.ts';
import type { ApplyStage } from './apply-stage.ts';
import { FENCE_MESSAGE_PREFIX } from './follow-names.ts';
import { createSnapshotSlot, type CreatedSlot } from './replication-slot.ts';
import { countTouched, finishPass, latestPass, startPass, type PassDifference, type VerifyPass } from './verify-state.ts';

export interface BackgroundVerifyOptions {
  /** Delay before the first pass (default 0: as soon as the follower streams). */
  readonly firstAfterMs?: number;
  /** A new pass this long after the last one ended (default 10 minutes). */
  readonly everyMs?: number;
  /** A new pass once this many keys were touched since the last clean pass (default 50,000). */
  readonly maxTouchedKeys?: number;
  /** Connections per database the pass uses (default 1: it shares the machine with the follower). */
  readonly parallel?: number;
  /** Called after each pass (also a failed one: status 'failed' with the error). */
  readonly onPass?: (p: PassReport) => void;
}

export interface PassReport {
  readonly passId: string;
  readonly baseLsn: string | undefined;
  readonly status: VerifyPass['status'];
  readonly durationMs: number;
  /** How long applying paused for the targets' snapshots. */
  readonly pauseMs: number;
  readonly differences: readonly PassDifference[];
  readonly error?: string;
}

/**
 * The background verify of a running follower (see docs/cutover-verify-design.md): passes that
 * compare the source and the targets on a consistent pair of snapshots while changes keep being
 * applied, each result recorded in every target's `_vendhub_split.verify_passes` for `cutover`.
 */
export class BackgroundVerify {
  readonly #ctx: SplitContext;
  readonly #loaded: LoadedPlan;
  readonly #slot: string;
  readonly #opts: BackgroundVerifyOptions;
  #stopped = false;
  #wake: (() => void) | undefined;
  #loop: Promise<void> | undefined;

  constructor(ctx: SplitContext, loaded: LoadedPlan, slot: string, opts: BackgroundVerifyOptions) {
    this.#ctx = ctx;
    this.#loaded = loaded;
    this.#slot = slot;
    this.#opts = opts;
  }

  /** Starts the passes on the follower's apply stage. */
  start(stage: ApplyStage): void {
    this.#loop ??= this.#run(stage);
  }

  /** Stops starting passes and waits for the running one (a pass is not interrupted mid-way). */
  async stop(): Promise<void> {
    this.#stopped = true;
    this.#wake?.();
    await this.#loop;
  }

  async #run(stage: ApplyStage): Promise<void> {
    await this.#sleep(this.#opts.firstAfterMs ?? 0);
    while (!this.#stopped) {
      const report = await verifyPass(this.#ctx, this.#loaded, this.#slot, stage, this.#opts.parallel ?? 1);
      try {
        this.#opts.onPass?.(report);
      } catch {
        // A listener's error is not the follower's.
      }
      const ended = Date.now();
      while (!this.#stopped && Date.now() - ended < (this.#opts.everyMs ?? 600_000)) {
        await this.#sleep(2_000);
        if (!this.#stopped && (await this.#touchedSinceClean().catch(() => 0)) >= (this.#opts.maxTouchedKeys ?? 50_000)) break;
      }
    }
  }

  /** Keys touched since the base of the latest clean pass, in the target that has most. */
  async #touchedSinceClean(): Promise<number> {
    let most = 0;
    for (const t of this.#ctx.targets) {
      const n = await withDatabase(this.#ctx, t, async (c) => {
        const p = await latestPass(c, this.#slot);
        return p?.status === 'clean' ? countTouched(c, this.#slot, p.baseLsn) : 0;
      });
      most = Math.max(most, n);
    }
    return most;
  }

  #sleep(ms: number): Promise<void> {
    if (this.#stopped || ms <= 0) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        resolve();
      }
      this.#wake = done;
    });
  }
}

/**
 * One pass: a temporary slot exports a source snapshot at its consistent point L; the follower
 * applies exactly the transactions before L and pauses while each target exports a snapshot; then
 * `split verify`'s comparison runs on those snapshots while the follower goes on. The result is
 * recorded in every target (a clean pass also forgets the touched keys before L). Never throws:
 * a pass that could not run is reported (and recorded once started) as 'failed'.
 */
export async function verifyPass(ctx: SplitContext, loaded: LoadedPlan, slot: string, stage: ApplyStage, parallel: number): Promise<PassReport> {
  const passId = `${Date.now().toString(36)}${randomBytes(3).toString('hex')}`;
  const started = performance.now();
  let source: CreatedSlot | undefined;
  const held: HeldSnapshot[] = [];
  const targets = new Map<string, string>();
  let recorded = false;
  let pauseMs = 0;
  try {
    await stage.holdAt(async () => {
      source = await createSnapshotSlot(ctx, `${slot}_verify_${passId}`.slice(0, 63));
      // A transaction committed after the consistent point: the stream is sure to reach past it.
      await withDatabase(ctx, ctx.sourceWriter, (c) => c.query('SELECT pg_logical_emit_message(true, $1, $2)', [FENCE_MESSAGE_PREFIX, `verify:${passId}`]));
      return source.consistentPoint;
    }, async () => {
      const t0 = performance.now();
      for (const t of ctx.targets) {
        const h = await holdSnapshot(t, ctx.secrets);
        held.push(h);
        targets.set(t.key, h.id);
      }
      pauseMs = Math.round(performance.now() - t0);
    });
    const base = (source as CreatedSlot).consistentPoint;
    for (const t of ctx.targets) await withDatabase(ctx, t, (c) => startPass(c, slot, passId, base));
    recorded = true;
    const v = await verifySplit(ctx, { parallel, snapshots: { source: (source as CreatedSlot).snapshotId, targets }, setSequences: false }, loaded);
    const differences: PassDifference[] = v.tables.filter((t) => !t.ok).map((t) => ({
      model: t.model, target: t.target, sourceRows: t.sourceRows, targetRows: t.targetRows, missing: t.missing, extra: t.extra, changed: t.changed,
    }));
    const status = v.ok ? 'clean' : 'differences';
    const durationMs = Math.round(performance.now() - started);
    for (const t of ctx.targets) await withTransaction(t, (c) => finishPass(c, slot, passId, status, durationMs, differences));
    return { passId, baseLsn: base, status, durationMs, pauseMs, differences };
  } catch (e) {
    const durationMs = Math.round(performance.now() - started);
    if (recorded) {
      for (const t of ctx.targets) await withDatabase(ctx, t, (c) => finishPass(c, slot, passId, 'failed', durationMs, [])).catch(() => {});
    }
    return { passId, baseLsn: source?.consistentPoint, status: 'failed', durationMs, pauseMs, differences: [], error: (e as Error).message };
  } finally {
    await Promise.all(held.map((h) => h.close()));
    await source?.close();
  }
}
