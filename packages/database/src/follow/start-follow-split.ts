import { VendhubError } from '../errors/vendhub-error.ts';
import type { LoadedPlan } from '../split/load-plan.ts';
import { runSplit, type SplitRunOptions, type SplitRunResult } from '../split/run-split.ts';
import { withDatabase } from '../db/with-database.ts';
import type { SplitContext } from '../split/split-context.ts';
import { followNames } from './follow-names.ts';
import { followPreflight } from './follow-preflight.ts';
import { initFollowState } from './follow-state.ts';
import { ensureVerifyState } from './verify-state.ts';
import { createSlotAndPublication, dropSlotAndPublicationWith, type CreatedSlot } from './replication-slot.ts';

export interface StartFollowResult {
  readonly run: SplitRunResult;
  readonly slot: string;
  readonly publication: string;
  /** The stream starts after this LSN; every target's follow_state starts here. */
  readonly consistentPoint: string | undefined;
}

/**
 * `vendhub-db split run --follow`, the copy part: checks what following needs (on the plan the run
 * reads), then creates the publication and the logical slot (right after the split's preflight)
 * and copies from the slot's exported snapshot, and records the slot's consistent point in every
 * target. A failure before the copy finished removes the slot and publication again. Follow with
 * `followSource` afterwards. Runs on the caller's context, sized like `runSplit`'s.
 */
export async function startFollowSplit(ctx: SplitContext, opts: SplitRunOptions & { readonly slot?: string }): Promise<StartFollowResult> {
  const names = followNames(opts.slot);
  if (opts.resume) {
    throw new VendhubError('USAGE', '--follow cannot resume an interrupted copy: the slot\'s snapshot ended with the interrupted run', {
      hint: 'Run `vendhub-db split abort`, empty the targets (drop and migrate again), then `split run --follow` anew.',
    });
  }
  if (opts.skipInvalidRows) throw new VendhubError('USAGE', '--follow and --skip-invalid-rows cannot be combined: left-out rows would come back with their next change', { hint: 'Fix the rows in the source first.' });
  let slot: CreatedSlot | undefined;
  let loaded: LoadedPlan | undefined;
  try {
    let run: SplitRunResult;
    try {
      run = await runSplit(ctx, {
        ...opts,
        onPlan: async (l) => {
          loaded = l;
          await withDatabase(ctx, ctx.source, (src) => followPreflight(src, l));
          await opts.onPlan?.(l);
        },
        ...(opts.dryRun ? {} : {
          snapshotProvider: async () => {
            slot = await createSlotAndPublication(ctx, names, (loaded as LoadedPlan).plan.tables);
            return slot.snapshotId;
          },
        }),
      });
      if (run.interrupted && slot) throw new VendhubError('INTERRUPTED', 'the copy was interrupted; the slot and publication were removed', { hint: 'Empty the targets and run `split run --follow` again.' });
    } catch (e) {
      if (slot) {
        await slot.close();
        await withDatabase(ctx, ctx.sourceWriter, (c) => dropSlotAndPublicationWith(c, names));
      }
      throw e;
    }
    const created = slot as CreatedSlot | undefined;
    await created?.close();
    if (created) {
      for (const t of ctx.targets) {
        await withDatabase(ctx, t, async (c) => {
          await initFollowState(c, names.slot, created.consistentPoint);
          // Touched keys and verify passes (cutover-verify): made with the copy, not by a starting follower.
          await ensureVerifyState(c);
        });
      }
    }
    return { run, slot: names.slot, publication: names.publication, consistentPoint: created?.consistentPoint };
  } finally {
    await slot?.close();
  }
}
