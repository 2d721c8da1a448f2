import type pg from 'pg';
import { CHECKPOINT_SCHEMA } from '../split/checkpoint-store.ts';

/**
 * Per target database: how far the change stream has been applied. The row is updated in the same
 * transaction as the changes it describes, so after a crash the position and the data agree.
 */
export interface FollowState {
  readonly slot: string;
  readonly appliedLsn: string;
  readonly status: 'following' | 'cut-over';
  /** Commit time of the last applied source transaction (for lag in seconds). */
  readonly lastCommitAt: Date | null;
}

const TABLE = `${CHECKPOINT_SCHEMA}.follow_state`;

export async function ensureFollowState(c: pg.ClientBase): Promise<void> {
  await c.query('SELECT pg_advisory_lock(hashtext($1))', ['vendhub:split:ddl']);
  try {
    await c.query(`CREATE SCHEMA IF NOT EXISTS ${CHECKPOINT_SCHEMA}`);
    await c.query(`CREATE TABLE IF NOT EXISTS ${TABLE} (
      slot text PRIMARY KEY, applied_lsn pg_lsn NOT NULL, status text NOT NULL DEFAULT 'following',
      last_commit_at timestamptz, updated_at timestamptz NOT NULL DEFAULT now())`);
    await c.query(`CREATE TABLE IF NOT EXISTS ${CHECKPOINT_SCHEMA}.follow_fence (
      slot text NOT NULL, table_name text NOT NULL, grantee text NOT NULL, privilege text NOT NULL,
      grantable boolean NOT NULL, fenced_at timestamptz NOT NULL DEFAULT now(), PRIMARY KEY (slot, table_name, grantee, privilege))`);
    await c.query(`CREATE TABLE IF NOT EXISTS ${CHECKPOINT_SCHEMA}.follow_handover (
      slot text PRIMARY KEY, taken_by text NOT NULL, seq bigint NOT NULL DEFAULT 1, taken_at timestamptz NOT NULL DEFAULT now())`);
  } finally {
    await c.query('SELECT pg_advisory_unlock(hashtext($1))', ['vendhub:split:ddl']);
  }
}

/** Starts following at the slot's consistent point (the copy holds everything before it). */
export async function initFollowState(c: pg.ClientBase, slot: string, lsn: string): Promise<void> {
  await ensureFollowState(c);
  await c.query(`INSERT INTO ${TABLE} (slot, applied_lsn) VALUES ($1, $2::pg_lsn)
    ON CONFLICT (slot) DO UPDATE SET applied_lsn = EXCLUDED.applied_lsn, status = 'following', last_commit_at = NULL, updated_at = now()`, [slot, lsn]);
}

/** Reads (and, inside a transaction, locks) the state row; undefined when this target does not follow `slot`. */
export async function readFollowState(c: pg.ClientBase, slot: string, lock = false): Promise<FollowState | undefined> {
  const exists = await c.query(`SELECT to_regclass($1) AS t`, [TABLE]);
  if (!exists.rows[0]?.t) return undefined;
  const r = await c.query<{ applied_lsn: string; status: FollowState['status']; last_commit_at: Date | null }>(
    `SELECT applied_lsn::text, status, last_commit_at FROM ${TABLE} WHERE slot = $1${lock ? ' FOR UPDATE' : ''}`, [slot]);
  const row = r.rows[0];
  return row ? { slot, appliedLsn: row.applied_lsn, status: row.status, lastCommitAt: row.last_commit_at } : undefined;
}

export async function writeFollowState(c: pg.ClientBase, slot: string, lsn: string, lastCommitAt: Date | null): Promise<void> {
  await c.query(`UPDATE ${TABLE} SET applied_lsn = greatest(applied_lsn, $2::pg_lsn), last_commit_at = coalesce($3, last_commit_at), updated_at = now() WHERE slot = $1`,
    [slot, lsn, lastCommitAt]);
}

export async function markCutOver(c: pg.ClientBase, slot: string): Promise<void> {
  await c.query(`UPDATE ${TABLE} SET status = 'cut-over', updated_at = now() WHERE slot = $1`, [slot]);
}

export async function dropFollowState(c: pg.ClientBase, slot: string): Promise<void> {
  if (!(await c.query(`SELECT to_regclass($1) AS t`, [TABLE])).rows[0]?.t) return;
  await c.query(`DELETE FROM ${TABLE} WHERE slot = $1`, [slot]);
}
