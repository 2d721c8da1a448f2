import type pg from 'pg';
import { VendhubError } from '../errors/vendhub-error.ts';
import { SERVICES } from '../services.ts';
import { loadPlan, type LoadedPlan } from '../split/load-plan.ts';
import type { PlanFile } from '../split/plan-file.ts';
import { syncSequences } from '../split/sequences.ts';
import { withDatabase } from '../db/with-database.ts';
import type { SplitContext } from '../split/split-context.ts';
import { keyOrderings, verifySplit, type VerifyResult } from '../split/verify-split.ts';
import { followNames } from './follow-names.ts';
import { markCutOver, readFollowState } from './follow-state.ts';
import { holdFenceSnapshots } from './fence-snapshots.ts';
import { readPasses, refuseOnDifferences, verifyAtFence, type FenceVerifyReport } from './fence-verify.ts';
import { currentLsn, followSource } from './follower.ts';
import { dropSlotAndPublicationWith, slotStatus } from './replication-slot.ts';
import { openRollbackWindow, rollbackWindowPreflight, type WindowSlot } from './rollback-window.ts';
import { restoreWrites, type RevokedGrant } from './write-fence.ts';
import { phaseTimer } from './phase-timer.ts';
import { switchover } from './switchover.ts';
import { releaseTargets } from './target-write-guard.ts';
import { ensureVerifyState } from './verify-state.ts';
import { assertSlotIntact, type RecordedPosition } from './slot-health.ts';

export interface CutoverOptions {
  readonly planFile?: PlanFile;
  readonly slot?: string;
  /** revoke: the tool makes the mapped tables read-only for non-superusers; wait: the operator stopped the writers. */
  readonly fence?: 'revoke' | 'wait';
  /** How long to wait for write transactions in flight (revoke) or for writers to stop (wait). */
  readonly writersTimeoutMs?: number;
  readonly catchUpTimeoutMs?: number;
  /**
   * true (default): verify inside the freeze, before the switch. 'after-switch': hold a snapshot of
   * the source and of every target at the fence, end the freeze (sets sequences, calls `onSwitch`)
   * and verify those snapshots while the services already write to the targets; a mismatch is
   * reported after the switch (roll back with the rollback window). false: no verify.
   */
  readonly verify?: boolean | 'after-switch';
  /** Called when the write freeze ends and before verify runs, with verify 'after-switch'. */
  readonly onSwitch?: (r: CutoverResult) => void | Promise<void>;
  readonly parallel?: number;
  /**
   * Keep the monolith in sync from the targets after the cutover (`split follow-back`), so that
   * `split rollback` loses nothing: checked before the fence, opened inside the freeze.
   */
  readonly rollbackWindow?: boolean;
  readonly onPhase?: (phase: string, ms: number) => void;
}

export interface CutoverResult {
  readonly fence: 'revoke' | 'wait';
  readonly revoked: readonly RevokedGrant[];
  readonly fenceLsn: string;
  /** Bytes the targets were behind when writes stopped. */
  readonly lagAtFenceBytes: number;
  /** Writes stopped → targets caught up, verified, sequences set: the downtime. */
  readonly writeFreezeMs: number;
  readonly phases: Readonly<Record<string, number>>;
  readonly appliedAfterFence: number;
  readonly verify: VerifyResult | undefined;
  /** With verify inside: re-verified keys since a clean background pass, or the full verify (see fence-verify.ts). */
  readonly fenceVerify?: FenceVerifyReport;
  /** When verify ran: inside the freeze, after the switch (on snapshots taken at the fence), or not at all. */
  readonly verified: 'inside' | 'after-switch' | 'no';
  /** With verify 'after-switch': how long it took (not part of the freeze). */
  readonly verifyAfterSwitchMs?: number;
  readonly sequencesSet: readonly string[];
  /** Each service's variable and value (password shown as ***). */
  readonly environment: readonly string[];
  /** With rollbackWindow: the reverse slot of each target database. */
  readonly rollbackWindow?: readonly WindowSlot[];
}

/**
 * `vendhub-db split cutover`: fences writes on the source, marks the fence in the WAL, applies the
 * stream up to that mark in every target (taking the slot from a running follower), verifies,
 * sets sequences, drops the slot and publication and prints each service's environment. The
 * write-freeze window is measured from the fence to the end. On a failure the fence stays: run
 * `split abort` to reopen the source, or fix and run `cutover` again. With `rollbackWindow` it
 * checks first that the targets can be streamed from, and opens the rollback window (a slot per
 * target database, see rollback-window.ts) inside the freeze, before the forward slot goes.
 * Runs on the caller's context (`opts.parallel` connections per side, for verify).
 */
export async function cutover(ctx: SplitContext, opts: CutoverOptions = {}): Promise<CutoverResult> {
  const names = followNames(opts.slot);
  const fence = opts.fence ?? 'revoke';
  {
    // The slot first: a lost one refuses before the plan is loaded and long before any fence.
    await withDatabase(ctx, ctx.source, (src) => checkFollowing(ctx, src, names.slot));
    const planLsn = await currentLsn(ctx);
    const loaded = await loadPlan(ctx, opts.planFile ?? {});
    // Everything verify needs from the catalogs, read now: nothing is re-read inside the freeze.
    const orderings = await keyOrderings(ctx, loaded);
    // A background pass that found differences refuses before anything is fenced.
    if (opts.verify !== false) refuseOnDifferences(await readPasses(ctx, names.slot), 'nothing was fenced');
    // The catch-up records touched keys too (a follower from before this existed may not have made the tables).
    for (const t of ctx.targets) await withDatabase(ctx, t, (c) => ensureVerifyState(c));
    return await withDatabase(ctx, ctx.sourceWriter, async (src) => {
      if (opts.rollbackWindow) await rollbackWindowPreflight(ctx, src, loaded, names.slot, fence);
      const { phases, phase } = phaseTimer(opts.onPhase);
      const frozeAt = performance.now();
      const sw = await switchover(ctx, {
        taker: 'cutover',
        fenced: [{ db: ctx.sourceWriter, tables: loaded.plan.tables, fenceSlot: names.slot }],
        recordIn: ctx.targets,
        slots: [{ db: ctx.sourceWriter, names }],
        catchUp: async (markers, signal) => {
          const r = await followSource(ctx, { planFile: opts.planFile ?? {}, slot: names.slot, stopAtMarker: markers.get(names.slot) as string, signal, planLsn }, loaded);
          return { reason: r.reason, changes: r.changes, appliedLsn: new Map([[names.slot, r.appliedLsn]]) };
        },
        again: 'run `split cutover` again, or `split abort` to reopen the source',
      }, { fence, writersTimeoutMs: opts.writersTimeoutMs ?? 15_000, catchUpTimeoutMs: opts.catchUpTimeoutMs ?? 300_000, phase });
      const { revoked, lagAtFenceBytes } = sw;
      const fenceLsn = sw.markers[0]?.lsn as string;
      const followed = { changes: sw.caughtUp.changes };
      let verify: VerifyResult | undefined;
      let fenceVerify: FenceVerifyReport | undefined;
      const sequencesSet: string[] = [];
      const verifyInside = opts.verify === undefined || opts.verify === true;
      if (verifyInside) {
        ({ verify, report: fenceVerify } = await verifyAtFence(ctx, loaded, names.slot, opts.parallel ?? 2, orderings));
        phase('verify');
        if (!verify.ok) {
          const bad = verify.tables.filter((x) => !x.ok).map((x) => `${x.model} (${x.target})${[...x.missing.map((k) => ` missing ${k}`), ...x.extra.map((k) => ` extra ${k}`), ...x.changed.map((k) => ` changed ${k}`)].slice(0, 10).join(',')}`);
          throw new VendhubError('VERIFY_MISMATCH', `after catching up to the fence, verify found differences between the source and the targets (${fenceVerify.mode === 'full' ? 'full verify' : `${fenceVerify.keysVerified} keys changed since the background pass`}); the fence and the slot stay: ${bad.join('; ')}`, {
            details: { verify, fenceVerify }, hint: 'Inspect with `split verify`; `split abort` reopens the source unchanged.',
          });
        }
        sequencesSet.push(...verify.sequencesSet);
        if (fenceVerify.mode === 'touched-keys') await setSequences(ctx, loaded, sequencesSet);
      } else {
        await setSequences(ctx, loaded, sequencesSet);
        phase('sequences');
      }
      let rollbackWindow: WindowSlot[] | undefined;
      if (opts.rollbackWindow) {
        rollbackWindow = await openRollbackWindow(ctx, src, loaded, names.slot);
        phase('rollback-window');
      }
      // Source fenced, targets caught up and not yet written by the services: this instant is the fence.
      const snapshots = opts.verify === 'after-switch' ? await holdFenceSnapshots(ctx) : undefined;
      try {
        if (snapshots) phase('snapshots');
        // The targets become the system of record: their write grants come back (see target-write-guard.ts).
        await releaseTargets(ctx, names.slot);
        for (const t of ctx.targets) await withDatabase(ctx, t, (c) => markCutOver(c, names.slot));
        await dropSlotAndPublicationWith(src, names);
        phase('drop-slot');
        const writeFreezeMs = Math.round(performance.now() - frozeAt);
        const environment = SERVICES.map((s) => `${s.toUpperCase()}_DATABASE_URL=${ctx.serviceConfigs[s].connection.redacted}`);
        const result: CutoverResult = {
          fence, revoked, fenceLsn, lagAtFenceBytes, writeFreezeMs, phases, appliedAfterFence: followed.changes, verify, ...(fenceVerify ? { fenceVerify } : {}), verified: verifyInside ? 'inside' : 'no',
          sequencesSet, environment, ...(rollbackWindow ? { rollbackWindow } : {}),
        };
        if (!snapshots) return result;
        await opts.onSwitch?.(result);
        const started = performance.now();
        const after = await verifySplit(ctx, {
          parallel: opts.parallel ?? 2, snapshots: { source: snapshots.source, targets: snapshots.targets }, setSequences: false, keyOrderings: orderings,
        }, loaded);
        const verifyAfterSwitchMs = Math.round(performance.now() - started);
        if (!after.ok) {
          throw new VendhubError('VERIFY_MISMATCH', 'verify after the switch found differences between the source and the targets as they were at the fence', {
            details: { verify: after },
            hint: rollbackWindow
              ? 'The services already write to the targets: `split rollback` switches back to the monolith without losing those writes; inspect the differences first.'
              : 'The services already write to the targets; the monolith is still fenced and unchanged since the fence: inspect the differences, then fix the targets, or switch the services back and run `split abort` to reopen the monolith (writes made in the targets since are not in it).',
          });
        }
        return { ...result, verify: after, verified: 'after-switch', verifyAfterSwitchMs };
      } finally {
        await snapshots?.close();
      }
    });
  }
}

/** Sets every target's sequences past the copied maximum (what the full verify does as its last step). */
async function setSequences(ctx: SplitContext, loaded: LoadedPlan, out: string[]): Promise<void> {
  for (const t of ctx.targets) await withDatabase(ctx, t, (c) => syncSequences(c, loaded.plan.tables.filter((m) => t.services.includes(m.service))).then((s) => void out.push(...s)));
}

/** Every target follows the slot, and the slot is intact (not lost, not recreated): checked before anything is fenced. */
async function checkFollowing(ctx: SplitContext, src: pg.ClientBase, slot: string): Promise<void> {
  const s = await slotStatus(src, slot);
  await assertSlotIntact(src, slot, ctx.source.label, async () => {
    const positions: RecordedPosition[] = [];
    for (const t of ctx.targets) {
      const st = await withDatabase(ctx, t, (c) => readFollowState(c, slot));
      if (!st && !s.exists) throw new VendhubError('PREFLIGHT_FAILED', `the source has no replication slot ${slot}: nothing to cut over`, { hint: 'Start with `split run --follow`.' });
      if (!st) throw new VendhubError('PREFLIGHT_FAILED', `${t.label} does not follow slot ${slot}: the copy of \`split run --follow\` did not finish`, { hint: 'Run `split abort` and start again.' });
      positions.push({ label: t.label, appliedLsn: st.appliedLsn });
    }
    return positions;
  });
}

export { restoreWrites };
