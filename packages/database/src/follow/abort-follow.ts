import type { Env } from '../config/database-config.ts';
import { wrapPgError } from '../errors/pg-errors.ts';
import { VendhubError } from '../errors/vendhub-error.ts';
import { connectTo, openSplitContext, withDatabase } from '../split/split-context.ts';
import { followNames } from './follow-names.ts';
import { dropFollowState, readFollowState } from './follow-state.ts';
import { dropVerifyState } from './verify-state.ts';
import { releaseTargets } from './target-write-guard.ts';
import { dropSlotAndPublicationWith, slotStatus } from './replication-slot.ts';
import { recordHandover } from './slot-handover.ts';
import { closeWindow, reverseSlots, windowStates } from './rollback-window.ts';
import { clearFence, loadFence, restoreWrites, type RevokedGrant } from './write-fence.ts';

export interface AbortResult {
  readonly slotDropped: boolean;
  readonly publicationDropped: boolean;
  readonly restored: readonly RevokedGrant[];
  /** True when the targets had been cut over: writes made there since are not in the source. */
  readonly wasCutOver: boolean;
}

/**
 * `vendhub-db split abort`: stops following and leaves the source as it was before `--follow`:
 * drops the slot (stopping a running follower) and the publication, gives back every write
 * privilege a cutover fence revoked, and forgets the follow state in the targets. Safe to repeat.
 * Refuses while a rollback window is open (the targets are live); removes the reverse slots of a
 * cutover that did not finish.
 */
export async function abortFollow(env: Env, opts: { readonly slot?: string } = {}): Promise<AbortResult> {
  const names = followNames(opts.slot);
  const ctx = openSplitContext(env, { parallel: 1 });
  try {
    // The slot first: an abandoned slot fills the source's disk, so it goes even if a target is down
    // (then run abort again to give back the grants recorded there).
    // A running follower must end as "slot released": recorded in the targets it applies to
    // before the slot goes (best effort: a target that is down does not keep the slot).
    for (const t of ctx.targets) {
      await withDatabase(ctx, t, async (c) => { if (await readFollowState(c, names.slot)) await recordHandover(c, names.slot, 'abort'); }).catch(() => {});
    }
    const src = await connectTo(ctx.sourceWriter.pool, ctx.sourceWriter.label, ctx.secrets);
    let dropped: { slot: boolean; publication: boolean };
    const grants = new Map<string, RevokedGrant>();
    try {
      const window = await windowStates(src, reverseSlots(ctx, names.slot));
      const forward = await slotStatus(src, names.slot);
      if (!forward.exists && [...window.values()].some((s) => s.status === 'following')) {
        throw new VendhubError('PREFLIGHT_FAILED', `the rollback window of slot ${names.slot} is open: the targets are the system of record and their changes stream back to the monolith`, {
          hint: '`split rollback` switches back to the monolith without losing those changes; `split end-rollback-window` closes the window and stays on the targets (then `split abort` gives the monolith its write grants back).',
        });
      }
      dropped = await dropSlotAndPublicationWith(src, names);
      // A cutover that stopped after opening the window: its reverse slots go with it.
      if (forward.exists && window.size) await closeWindow(ctx, src, names.slot);
      for (const g of await loadFence(src, names.slot)) grants.set(`${g.table}|${g.grantee}|${g.privilege}`, g);
    } catch (e) {
      throw wrapPgError(e, ctx.source.label, [...ctx.secrets]);
    } finally {
      src.release();
    }
    let wasCutOver = false;
    for (const t of ctx.targets) {
      const c = await connectTo(t.pool, t.label, ctx.secrets);
      try {
        for (const g of await loadFence(c, names.slot)) grants.set(`${g.table}|${g.grantee}|${g.privilege}`, g);
        if ((await readFollowState(c, names.slot))?.status === 'cut-over') wasCutOver = true;
      } catch (e) {
        throw wrapPgError(e, t.label, [...ctx.secrets]);
      } finally {
        c.release();
      }
    }
    const restoreOn = await connectTo(ctx.sourceWriter.pool, ctx.sourceWriter.label, ctx.secrets);
    try {
      await restoreOn.query('BEGIN');
      await restoreWrites(restoreOn, [...grants.values()]);
      await clearFence(restoreOn, names.slot);
      await restoreOn.query('COMMIT');
    } catch (e) {
      await restoreOn.query('ROLLBACK').catch(() => {});
      throw wrapPgError(e, ctx.source.label, [...ctx.secrets]);
    } finally {
      restoreOn.release();
    }
    await releaseTargets(ctx, names.slot);
    for (const t of ctx.targets) {
      const c = await connectTo(t.pool, t.label, ctx.secrets);
      try {
        await clearFence(c, names.slot);
        await dropFollowState(c, names.slot);
        await dropVerifyState(c, names.slot);
      } catch (e) {
        throw wrapPgError(e, t.label, [...ctx.secrets]);
      } finally {
        c.release();
      }
    }
    return { slotDropped: dropped.slot, publicationDropped: dropped.publication, restored: [...grants.values()], wasCutOver };
  } finally {
    await ctx.close();
  }
}
