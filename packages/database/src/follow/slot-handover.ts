import type pg from 'pg';
import { CHECKPOINT_SCHEMA } from '../split/checkpoint-store.ts';
import { ensureFollowState } from './follow-state.ts';

/** Who took a slot from its reader on purpose. */
export type SlotTaker = 'cutover' | 'abort' | 'rollback' | 'end-rollback-window';

/** One handover record: bumped each time a process takes the slot. */
export interface Handover {
  readonly takenBy: SlotTaker;
  readonly seq: number;
}

const TABLE = `${CHECKPOINT_SCHEMA}.follow_handover`;

/**
 * Records, in a database the stream applies to, that `by` is about to stop the slot's reader and
 * take (or drop) the slot. Written before the reader is terminated: a follower whose stream ends
 * finds a record newer than the one it saw at its start and stops as "slot released"; without
 * one, the end of its stream is a failure. (Never decided from an error's text.)
 */
export async function recordHandover(c: pg.ClientBase, slot: string, by: SlotTaker): Promise<void> {
  await ensureFollowState(c);
  await c.query(`INSERT INTO ${TABLE} (slot, taken_by) VALUES ($1, $2)
    ON CONFLICT (slot) DO UPDATE SET taken_by = EXCLUDED.taken_by, seq = ${TABLE}.seq + 1, taken_at = now()`, [slot, by]);
}

/** The slot's handover record in this database, if any. */
export async function readHandover(c: pg.ClientBase, slot: string): Promise<Handover | undefined> {
  if (!(await c.query(`SELECT to_regclass($1) AS t`, [TABLE])).rows[0]?.t) return undefined;
  const r = await c.query<{ taken_by: SlotTaker; seq: string }>(`SELECT taken_by, seq::text FROM ${TABLE} WHERE slot = $1`, [slot]);
  const row = r.rows[0];
  return row ? { takenBy: row.taken_by, seq: Number(row.seq) } : undefined;
}
