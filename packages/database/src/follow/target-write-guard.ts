import { withTransaction } from '../db/with-database.ts';
import type { LoadedPlan } from '../split/load-plan.ts';
import type { SplitContext } from '../split/split-context.ts';
import { clearFence, loadFence, recordFence, restoreWrites, revokeTargetWrites, type RevokedGrant } from './write-fence.ts';

/** Under which name a target database records the grants taken from its own tables (its `follow_fence`). */
const guardKey = (slot: string) => `${slot}@targets`;

/**
 * While following, only the follower may write to the mapped target tables (see
 * `revokeTargetWrites`): what a background verify pass found equal stays equal unless the follower
 * changed it, and the follower records every key it changes. Recorded in each target database in
 * the same transaction as the revoke; idempotent (a restarted follower finds nothing more to take).
 */
export async function guardTargets(ctx: SplitContext, loaded: LoadedPlan, slot: string): Promise<RevokedGrant[]> {
  const out: RevokedGrant[] = [];
  for (const t of ctx.targets) {
    const tables = loaded.plan.tables.filter((m) => t.services.includes(m.service));
    out.push(...(await withTransaction(t, async (c) => {
      const revoked = await revokeTargetWrites(c, tables);
      await recordFence(c, guardKey(slot), revoked);
      return revoked;
    })));
  }
  return out;
}

/** Gives the target tables' write grants back (end of the cutover's freeze, or abort). */
export async function releaseTargets(ctx: SplitContext, slot: string): Promise<RevokedGrant[]> {
  const out: RevokedGrant[] = [];
  for (const t of ctx.targets) {
    out.push(...(await withTransaction(t, async (c) => {
      const grants = await loadFence(c, guardKey(slot));
      await restoreWrites(c, grants);
      await clearFence(c, guardKey(slot));
      return grants;
    })));
  }
  return out;
}
