import { VendhubError } from '../errors/vendhub-error.ts';
import { withDatabase, withTransaction } from '../db/with-database.ts';
import type { SplitContext } from '../split/split-context.ts';
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
export async function abortFollow(ctx: SplitContext, opts: { readonly slot?: string } = {}): Promise<AbortResult> {
  const names = followNames(opts.slot);
  // The slot first: an abandoned slot fills the source's disk, so it goes even if a target is down
  // (then run abort again to give back the grants recorded there).
  // A running follower must end as "slot released": recorded in the targets it applies to
  // before the slot goes (best effort: a target that is down does not keep the slot).
  for (const t of ctx.targets) {
    await withDatabase(ctx, t, async (c) => { if (await readFollowState(c, names.slot)) await recordHandover(c, names.slot, 'abort'); }).catch(() => {});
  }
  const grants = new Map<string, RevokedGrant>();
  const dropped = await withDatabase(ctx, ctx.sourceWriter, async (src) => {
    const window = await windowStates(src, reverseSlots(ctx, names.slot));
    const forward = await slotStatus(src, names.slot);
    if (!forward.exists && [...window.values()].some((s) => s.status === 'following')) {
      throw new VendhubError('PREFLIGHT_FAILED', `the rollback window of slot ${names.slot} is open: the targets are the system of record and their changes stream back to the monolith`, {
        hint: '`split rollback` switches back to the monolith without losing those changes; `split end-rollback-window` closes the window and stays on the targets (then `split abort` gives the monolith its write grants back).',
      });
    }
    const d = await dropSlotAndPublicationWith(src, names);
    // A cutover that stopped after opening the window: its reverse slots go with it.
    if (forward.exists && window.size) await closeWindow(ctx, src, names.slot);
    for (const g of await loadFence(src, names.slot)) grants.set(`${g.table}|${g.grantee}|${g.privilege}`, g);
    return d;
  });
  let wasCutOver = false;
  for (const t of ctx.targets) {
    await withDatabase(ctx, t, async (c) => {
      for (const g of await loadFence(c, names.slot)) grants.set(`${g.table}|${g.grantee}|${g.privilege}`, g);
      if ((await readFollowState(c, names.slot))?.status === 'cut-over') wasCutOver = true;
    });
  }
  await withTransaction(ctx.sourceWriter, async (c) => {
    await restoreWrites(c, [...grants.values()]);
    await clearFence(c, names.slot);
  });
  await releaseTargets(ctx, names.slot);
  for (const t of ctx.targets) {
    await withDatabase(ctx, t, async (c) => {
      await clearFence(c, names.slot);
      await dropFollowState(c, names.slot);
      await dropVerifyState(c, names.slot);
    });
  }
  return { slotDropped: dropped.slot, publicationDropped: dropped.publication, restored: [...grants.values()], wasCutOver };
}
