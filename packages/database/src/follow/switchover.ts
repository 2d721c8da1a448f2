import { randomBytes } from 'node:crypto';
import type pg from 'pg';
import { VendhubError } from '../errors/vendhub-error.ts';
import { withDatabase, withTransaction } from '../db/with-database.ts';
import type { SplitContext } from '../split/split-context.ts';
import type { TableMapping } from '../split/split-plan.ts';
import { FENCE_MESSAGE_PREFIX, type FollowNames } from './follow-names.ts';
import { ensureFollowState } from './follow-state.ts';
import { changesAfter, releaseSlot, slotStatus } from './replication-slot.ts';
import { recordHandover, type SlotTaker } from './slot-handover.ts';
import { recordFence, revokeWrites, waitForWritersGone, type RevokedGrant } from './write-fence.ts';

type Db = { readonly pool: pg.Pool; readonly label: string };

/** One slot a switchover takes from its follower and streams up to a fence marker. */
export interface SwitchSlot {
  /** The database that holds the slot (the side being left). */
  readonly db: Db;
  readonly names: FollowNames;
}

/** Where a stream stopped: the fence marker applied, at this position of its slot. */
export interface SwitchCaughtUp {
  readonly reason: string;
  readonly changes: number;
  /** Per slot name: the applied position. */
  readonly appliedLsn: ReadonlyMap<string, string>;
}

/**
 * Which way a switchover goes. forward (`cutover`): writes stop on the monolith, the forward slot
 * streams into the targets. back (`rollback`): writes stop on every target database, each reverse
 * slot streams into the monolith.
 */
export interface SwitchDirection {
  readonly taker: Extract<SlotTaker, 'cutover' | 'rollback'>;
  /**
   * The databases writes stop on, each with its mapped tables (made read-only by `revoke`) and the
   * slot name its revoked grants are recorded under (for `abort` / the rollback's reopening).
   */
  readonly fenced: readonly { readonly db: Db; readonly tables: readonly TableMapping[]; readonly fenceSlot: string }[];
  /** Where the revoked grants and the slot handovers are recorded: the side being switched to. */
  readonly recordIn: readonly Db[];
  readonly slots: readonly SwitchSlot[];
  /** Applies every slot's stream up to its marker (marker id by slot name). */
  catchUp(markers: ReadonlyMap<string, string>, signal: AbortSignal): Promise<SwitchCaughtUp>;
  /** How to go on after a failure, e.g. "run `split cutover` again, or `split abort`". */
  readonly again: string;
}

export interface SwitchoverResult {
  readonly revoked: readonly RevokedGrant[];
  /** The fence marker of each slot: its id and LSN in the slot's database. */
  readonly markers: readonly { readonly slot: SwitchSlot; readonly id: string; readonly lsn: string }[];
  /** Bytes the streams were behind when writes stopped. */
  readonly lagAtFenceBytes: number;
  readonly caughtUp: SwitchCaughtUp;
}

/**
 * The part `cutover` and `rollback` share, either direction: fence the side being left (revoke
 * its write grants, recorded on the other side before the revoke commits; or trust the operator),
 * wait for its open write transactions (WRITERS_TIMEOUT), take every slot from its follower
 * (recording the handover first, so the follower ends as "slot released"), write a fence marker
 * into each, apply every stream up to its marker, and refuse if a change reached the fenced side
 * after its marker. On a failure the fence stays: the caller says how to go on (`again`).
 */
export async function switchover(
  ctx: SplitContext, dir: SwitchDirection, opts: { readonly fence: 'revoke' | 'wait'; readonly writersTimeoutMs: number; readonly catchUpTimeoutMs: number; readonly phase: (name: string) => void },
): Promise<SwitchoverResult> {
  const revoked: RevokedGrant[] = [];
  for (const f of dir.fenced) {
    const fencedAt = opts.fence === 'revoke' ? await fenceOne(ctx, f, dir.recordIn, revoked) : undefined;
    if (!(await withDatabase(ctx, f.db, (c) => waitForWritersGone(c, opts.writersTimeoutMs, fencedAt)))) {
      throw new VendhubError('WRITERS_TIMEOUT', `write transactions on ${f.db.label} did not finish within ${opts.writersTimeoutMs} ms; the fence stays in place`, {
        details: { where: f.db.label, writersTimeoutMs: opts.writersTimeoutMs },
        hint: `Find them in pg_stat_activity (backend_xid not null), end them, then ${dir.again}.`,
      });
    }
  }
  opts.phase('fence');
  let lagAtFenceBytes = 0;
  const markers: SwitchoverResult['markers'][number][] = [];
  for (const s of dir.slots) {
    // Recorded where the stream applies, before its reader is stopped: it ends as "slot released".
    for (const r of dir.recordIn) await withDatabase(ctx, r, (c) => recordHandover(c, s.names.slot, dir.taker));
    await withDatabase(ctx, s.db, async (c) => {
      lagAtFenceBytes += (await slotStatus(c, s.names.slot)).lagBytes;
      await releaseSlot(c, s.names.slot);
      const id = `${s.names.slot}:${randomBytes(6).toString('hex')}`;
      const lsn = (await c.query<{ lsn: string }>('SELECT pg_logical_emit_message(true, $1, $2)::text AS lsn', [FENCE_MESSAGE_PREFIX, id])).rows[0]?.lsn as string;
      markers.push({ slot: s, id, lsn });
    });
  }
  const ac = new AbortController();
  const timer = setTimeout(() => ac.abort(), opts.catchUpTimeoutMs);
  const caughtUp = await dir.catchUp(new Map(markers.map((m) => [m.slot.names.slot, m.id])), ac.signal).finally(() => clearTimeout(timer));
  if (caughtUp.reason !== 'fence') {
    throw new VendhubError('TIMEOUT', `the stream${markers.length > 1 ? 's' : ''} did not reach the fence (${caughtUp.reason}); the fence stays in place`, { hint: `${dir.again[0]?.toUpperCase()}${dir.again.slice(1)}.` });
  }
  // Nothing may have been written after a fence: such a change would be lost by the switch.
  for (const s of dir.slots) {
    const late = await withDatabase(ctx, s.db, (c) => changesAfter(c, s.names, caughtUp.appliedLsn.get(s.names.slot) as string));
    if (late > 0) {
      throw new VendhubError('VERIFY_MISMATCH', `${late} changes reached the mapped tables after the fence (on ${s.db.label}): some writer is still writing there (a superuser, or writers not stopped)`, {
        hint: `Stop every writer${opts.fence === 'revoke' ? ' connected as a superuser' : ''}, then ${dir.again} (nothing is lost: the slot keeps those changes).`,
      });
    }
  }
  opts.phase('catch-up');
  return { revoked, markers, lagAtFenceBytes, caughtUp };
}

/** Revokes writes on one database, recording them on the other side before the revoke commits; returns the fence's time. */
async function fenceOne(ctx: SplitContext, f: SwitchDirection['fenced'][number], recordIn: readonly Db[], out: RevokedGrant[]): Promise<Date | undefined> {
  const revoked = await withTransaction(f.db, async (c) => {
    const r = await revokeWrites(c, f.tables);
    for (const db of recordIn) await withDatabase(ctx, db, async (rc) => { await ensureFollowState(rc); await recordFence(rc, f.fenceSlot, r); });
    return r;
  }, { secrets: ctx.secrets });
  out.push(...revoked);
  return withDatabase(ctx, f.db, async (c) => (await c.query<{ t: Date }>('SELECT clock_timestamp() AS t')).rows[0]?.t);
}
