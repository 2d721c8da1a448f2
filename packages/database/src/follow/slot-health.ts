import type pg from 'pg';
import { VendhubError } from '../errors/vendhub-error.ts';
import { lsnToBigInt } from './lsn.ts';
import { slotStatus, type SlotStatus } from './replication-slot.ts';

/** Where one database that a stream applies to stands (its `follow_state` row). */
export interface RecordedPosition {
  readonly label: string;
  readonly appliedLsn: string;
}

/** The way out of a lost slot, by the command that follows it. */
const WAY_OUT = 'Changes made since then are not in the targets and no slot can stream them again. Run `vendhub-db split abort` (removes slot and publication, gives back fenced grants), empty the targets (drop and migrate), then `split run --follow` anew.';

/**
 * Checks that the slot is the one the targets follow and can still stream everything after their
 * positions, before anything else is done with it (following, fencing). Refuses with SLOT_LOST:
 * - the slot is gone while the targets still follow it (dropped by hand: abort and cutover remove
 *   the targets' state with it);
 * - PostgreSQL invalidated it (`wal_status = lost`: max_slot_wal_keep_size removed WAL it needed);
 * - its confirmed position is past every target's recorded one: a slot under this name was
 *   recreated (or advanced) by someone else. The follower records a position in a target before
 *   acknowledging it to the slot, so the slot it created never confirms more than the targets hold:
 *   the consistent point each target recorded at creation is where that identity starts.
 */
export async function assertSlotIntact(
  src: pg.ClientBase, slot: string, where: string, recordedPositions: readonly RecordedPosition[] | (() => Promise<readonly RecordedPosition[]>),
): Promise<SlotStatus> {
  // The slot first, the positions after: a follower still running records a position before it
  // acknowledges it, so positions read later are never behind the slot read earlier. The other
  // order would call a live follower's slot "recreated".
  const s = await slotStatus(src, slot);
  const positions = typeof recordedPositions === 'function' ? await recordedPositions() : recordedPositions;
  const recorded = positions.reduce<bigint | undefined>((m, p) => (m === undefined || lsnToBigInt(p.appliedLsn) > m ? lsnToBigInt(p.appliedLsn) : m), undefined);
  const at = positions.map((p) => `${p.label} at ${p.appliedLsn}`).join(', ');
  if (!s.exists) {
    throw new VendhubError('SLOT_LOST', `the replication slot ${slot} is gone from ${where}, but the targets still follow it (${at}): it was dropped outside \`split abort\`/\`cutover\`, and the changes since are lost`, {
      details: { slot, positions }, hint: WAY_OUT,
    });
  }
  if (s.walStatus === 'lost') {
    throw new VendhubError('SLOT_LOST', `the replication slot ${slot} on ${where} was invalidated (wal_status = lost): the server removed WAL it still needed (max_slot_wal_keep_size), so changes after ${s.confirmedFlushLsn} are lost`, {
      details: { slot, confirmedFlushLsn: s.confirmedFlushLsn, positions },
      hint: `${WAY_OUT} Next time keep the follower running, or raise max_slot_wal_keep_size on the source.`,
    });
  }
  if (recorded !== undefined && s.confirmedFlushLsn !== null && lsnToBigInt(s.confirmedFlushLsn) > recorded) {
    throw new VendhubError('SLOT_LOST', `the replication slot ${slot} on ${where} is not the one the targets follow: it confirms ${s.confirmedFlushLsn}, past every target (${at}); it was dropped and recreated (or advanced) outside this tool, so the changes in between were never streamed`, {
      details: { slot, confirmedFlushLsn: s.confirmedFlushLsn, positions }, hint: WAY_OUT,
    });
  }
  return s;
}
