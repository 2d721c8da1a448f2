import type pg from 'pg';
import { CHECKPOINT_SCHEMA } from '../split/checkpoint-store.ts';
import type { Change } from './change-applier.ts';

/**
 * What the verified cutover keeps in each target database (see docs/cutover-verify-design.md):
 * `follow_touched`, the keys the follower changed, written in the same transaction as the changes
 * (so it is exact across a crash), and `verify_passes`, the background verify passes and their
 * results. At the fence `cutover` re-verifies only the keys touched since the last clean pass.
 */
const TOUCHED = `${CHECKPOINT_SCHEMA}.follow_touched`;
const PASSES = `${CHECKPOINT_SCHEMA}.verify_passes`;

/** Creates both tables (idempotent; in target databases only, never in the monolith). */
export async function ensureVerifyState(c: pg.ClientBase): Promise<void> {
  await c.query('SELECT pg_advisory_lock(hashtext($1))', ['vendhub:split:ddl']);
  try {
    await c.query(`CREATE SCHEMA IF NOT EXISTS ${CHECKPOINT_SCHEMA}`);
    // whole: the table changed as a whole (TRUNCATE, or a change without a usable key): key is ''.
    await c.query(`CREATE TABLE IF NOT EXISTS ${TOUCHED} (
      slot text NOT NULL, model text NOT NULL, whole boolean NOT NULL, key text NOT NULL, lsn pg_lsn NOT NULL,
      PRIMARY KEY (slot, model, whole, key))`);
    await c.query(`CREATE TABLE IF NOT EXISTS ${PASSES} (
      slot text NOT NULL, pass_id text NOT NULL, base_lsn pg_lsn NOT NULL, status text NOT NULL,
      started_at timestamptz NOT NULL DEFAULT now(), finished_at timestamptz, duration_ms integer, differences jsonb,
      PRIMARY KEY (slot, pass_id))`);
  } finally {
    await c.query('SELECT pg_advisory_unlock(hashtext($1))', ['vendhub:split:ddl']);
  }
}

/** One key a change touched: `key` null means the whole table. */
export interface TouchedKey {
  readonly model: string;
  readonly key: string | null;
}

/** The keys one change touches: insert the new key, delete the old, update the new (and the old when the key changed). */
export function keysTouchedBy(ch: Change): TouchedKey[] {
  if (ch.op === 'truncate') return ch.tables.map((t) => ({ model: t.mapping.model, key: null }));
  const model = ch.table.mapping.model;
  if (ch.op === 'delete') return [{ model, key: ch.table.verifyKeyOf(ch.key) }];
  const out = [{ model, key: ch.table.verifyKeyOf(ch.row) }];
  if (ch.old && ch.table.keyChanged(ch.old, ch.row)) out.push({ model, key: ch.table.verifyKeyOf(ch.old) });
  return out;
}

/**
 * Touched keys collected while a target transaction applies changes, written into that same
 * transaction by `record`: one statement per transaction, the highest LSN per key kept.
 */
export class TouchedKeys {
  readonly #keys = new Map<string, { model: string; key: string | null; lsn: string }>();

  /** Adds the keys of `changes`, applied by the source transaction at `lsn`. */
  add(changes: readonly Change[], lsn: string): void {
    for (const ch of changes) {
      for (const k of keysTouchedBy(ch)) this.#keys.set(`${k.model}\u0000${k.key === null ? '\u0001' : `k${k.key}`}`, { ...k, lsn });
    }
  }

  /** Writes the collected keys in the caller's transaction and forgets them. */
  async record(c: pg.ClientBase, slot: string): Promise<void> {
    if (this.#keys.size === 0) return;
    const rows = [...this.#keys.values()];
    this.#keys.clear();
    await c.query(`INSERT INTO ${TOUCHED} (slot, model, whole, key, lsn)
      SELECT $1, m, k IS NULL, coalesce(k, ''), l::pg_lsn FROM unnest($2::text[], $3::text[], $4::text[]) AS x(m, k, l)
      ON CONFLICT (slot, model, whole, key) DO UPDATE SET lsn = greatest(${TOUCHED}.lsn, EXCLUDED.lsn)`,
    [slot, rows.map((r) => r.model), rows.map((r) => r.key), rows.map((r) => r.lsn)]);
  }
}

/** Per model: the keys touched at or after `base`, and whether the whole table was. */
export async function readTouched(c: pg.ClientBase, slot: string, base: string): Promise<Map<string, { keys: string[]; whole: boolean }>> {
  const r = await c.query<{ model: string; whole: boolean; key: string }>(`SELECT model, whole, key FROM ${TOUCHED} WHERE slot = $1 AND lsn >= $2::pg_lsn`, [slot, base]);
  const out = new Map<string, { keys: string[]; whole: boolean }>();
  for (const row of r.rows) {
    const e = out.get(row.model) ?? { keys: [], whole: false };
    if (row.whole) e.whole = true;
    else e.keys.push(row.key);
    out.set(row.model, e);
  }
  return out;
}

/** How many keys are recorded as touched at or after `base` (the background verify starts a new pass past a bound). */
export async function countTouched(c: pg.ClientBase, slot: string, base: string): Promise<number> {
  const r = await c.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${TOUCHED} WHERE slot = $1 AND lsn >= $2::pg_lsn`, [slot, base]);
  return r.rows[0]?.n ?? 0;
}

/** One table's differences found by a background pass (keys as text, up to the verify's limit). */
export interface PassDifference {
  readonly model: string;
  readonly target: string;
  readonly sourceRows: number;
  readonly targetRows: number;
  readonly missing: readonly string[];
  readonly extra: readonly string[];
  readonly changed: readonly string[];
}

export interface VerifyPass {
  readonly passId: string;
  readonly baseLsn: string;
  readonly status: 'running' | 'clean' | 'differences' | 'failed';
  readonly finishedAt: Date | null;
  readonly durationMs: number | null;
  readonly differences: readonly PassDifference[];
}

/** Records a pass as running at `base` (the LSN both snapshots stand at). */
export async function startPass(c: pg.ClientBase, slot: string, passId: string, base: string): Promise<void> {
  await c.query(`INSERT INTO ${PASSES} (slot, pass_id, base_lsn, status) VALUES ($1, $2, $3::pg_lsn, 'running')`, [slot, passId, base]);
}

/**
 * Records a pass's result. A clean pass makes the touched keys before its base unnecessary: they
 * are deleted in the same transaction (the set the fence re-verifies stays bounded).
 */
export async function finishPass(c: pg.ClientBase, slot: string, passId: string, status: VerifyPass['status'], durationMs: number, differences: readonly PassDifference[]): Promise<void> {
  const r = await c.query<{ base: string }>(`UPDATE ${PASSES} SET status = $3, finished_at = now(), duration_ms = $4, differences = $5::jsonb
    WHERE slot = $1 AND pass_id = $2 RETURNING base_lsn::text AS base`, [slot, passId, status, durationMs, JSON.stringify(differences)]);
  const base = r.rows[0]?.base;
  if (status === 'clean' && base) await c.query(`DELETE FROM ${TOUCHED} WHERE slot = $1 AND lsn < $2::pg_lsn`, [slot, base]);
}

/** The latest finished pass (clean or with differences) of `slot`, by base position; undefined when none. */
export async function latestPass(c: pg.ClientBase, slot: string): Promise<VerifyPass | undefined> {
  if (!(await c.query(`SELECT to_regclass($1) AS t`, [PASSES])).rows[0]?.t) return undefined;
  const r = await c.query<{ pass_id: string; base_lsn: string; status: VerifyPass['status']; finished_at: Date | null; duration_ms: number | null; differences: PassDifference[] | null }>(
    `SELECT pass_id, base_lsn::text, status, finished_at, duration_ms, differences FROM ${PASSES}
      WHERE slot = $1 AND status IN ('clean', 'differences') ORDER BY base_lsn DESC, finished_at DESC LIMIT 1`, [slot]);
  const row = r.rows[0];
  return row ? { passId: row.pass_id, baseLsn: row.base_lsn, status: row.status, finishedAt: row.finished_at, durationMs: row.duration_ms, differences: row.differences ?? [] } : undefined;
}

/** Drops what `ensureVerifyState` recorded for `slot` (abort). */
export async function dropVerifyState(c: pg.ClientBase, slot: string): Promise<void> {
  for (const t of [TOUCHED, PASSES]) {
    if ((await c.query(`SELECT to_regclass($1) AS t`, [t])).rows[0]?.t) await c.query(`DELETE FROM ${t} WHERE slot = $1`, [slot]);
  }
}
