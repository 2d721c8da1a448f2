import type pg from 'pg';

/** Where a run's progress lives: in each target database, next to the rows it describes. */
export const CHECKPOINT_SCHEMA = '_vendhub_split';

/** Indexes and constraints a run dropped before its copy and builds after (see deferred-indexes). */
export const DEFERRED_TABLE = `${CHECKPOINT_SCHEMA}.deferred`;

export interface ChunkRecord {
  readonly model: string;
  readonly chunkNo: number;
  /** Exclusive lower bound of the key range; null: unbounded. */
  readonly lo: string | null;
  /** Inclusive upper bound; null: unbounded. */
  readonly hi: string | null;
  readonly status: 'pending' | 'done';
  readonly rows: number;
}

export interface RunRecord {
  readonly runId: string;
  readonly planHash: string;
  readonly status: 'running' | 'done';
}

/** Creates the checkpoint tables if needed (serialized, so parallel runs cannot race on DDL). */
export async function ensureCheckpointTables(c: pg.ClientBase): Promise<void> {
  await c.query('SELECT pg_advisory_lock(hashtext($1))', ['vendhub:split:ddl']);
  try {
    await c.query(`CREATE SCHEMA IF NOT EXISTS ${CHECKPOINT_SCHEMA}`);
    await c.query(`CREATE TABLE IF NOT EXISTS ${CHECKPOINT_SCHEMA}.runs (
      run_id text PRIMARY KEY, plan_hash text NOT NULL, status text NOT NULL,
      started_at timestamptz NOT NULL DEFAULT now(), finished_at timestamptz)`);
    await c.query(`CREATE TABLE IF NOT EXISTS ${CHECKPOINT_SCHEMA}.chunks (
      run_id text NOT NULL REFERENCES ${CHECKPOINT_SCHEMA}.runs ON DELETE CASCADE, model text NOT NULL, chunk_no int NOT NULL,
      lo text, hi text, status text NOT NULL DEFAULT 'pending', rows bigint NOT NULL DEFAULT 0,
      copied_at timestamptz, duration_ms int, PRIMARY KEY (run_id, model, chunk_no))`);
    // deferred: the run dropped its targets' indexes and constraints to build them after the data.
    await c.query(`ALTER TABLE ${CHECKPOINT_SCHEMA}.runs ADD COLUMN IF NOT EXISTS deferred boolean NOT NULL DEFAULT false`);
    await c.query(`CREATE TABLE IF NOT EXISTS ${DEFERRED_TABLE} (
      run_id text NOT NULL REFERENCES ${CHECKPOINT_SCHEMA}.runs ON DELETE CASCADE, model text NOT NULL, seq int NOT NULL,
      kind text NOT NULL, name text NOT NULL, tbl text NOT NULL, ref_tbl text, ref_model text, ddl text NOT NULL,
      status text NOT NULL DEFAULT 'pending', built_at timestamptz, duration_ms int, PRIMARY KEY (run_id, model, seq))`);
  } finally {
    await c.query('SELECT pg_advisory_unlock(hashtext($1))', ['vendhub:split:ddl']);
  }
}

/** The newest run recorded in this target database, if any. */
export async function latestRun(c: pg.ClientBase): Promise<RunRecord | undefined> {
  const exists = (await c.query(`SELECT to_regclass('${CHECKPOINT_SCHEMA}.runs') AS t`)).rows[0]?.t;
  if (!exists) return undefined;
  const r = await c.query<{ run_id: string; plan_hash: string; status: 'running' | 'done' }>(
    `SELECT run_id, plan_hash, status FROM ${CHECKPOINT_SCHEMA}.runs ORDER BY started_at DESC, run_id DESC LIMIT 1`,
  );
  const row = r.rows[0];
  return row ? { runId: row.run_id, planHash: row.plan_hash, status: row.status } : undefined;
}

export async function insertRun(c: pg.ClientBase, runId: string, planHash: string): Promise<void> {
  await c.query(`INSERT INTO ${CHECKPOINT_SCHEMA}.runs (run_id, plan_hash, status) VALUES ($1, $2, 'running') ON CONFLICT (run_id) DO NOTHING`, [runId, planHash]);
}

export async function finishRun(c: pg.ClientBase, runId: string): Promise<void> {
  await c.query(`UPDATE ${CHECKPOINT_SCHEMA}.runs SET status = 'done', finished_at = now() WHERE run_id = $1`, [runId]);
}

export async function loadChunks(c: pg.ClientBase, runId: string, model: string): Promise<ChunkRecord[]> {
  const r = await c.query<{ chunk_no: number; lo: string | null; hi: string | null; status: 'pending' | 'done'; rows: string }>(
    `SELECT chunk_no, lo, hi, status, rows::text FROM ${CHECKPOINT_SCHEMA}.chunks WHERE run_id = $1 AND model = $2 ORDER BY chunk_no`,
    [runId, model],
  );
  return r.rows.map((x) => ({ model, chunkNo: x.chunk_no, lo: x.lo, hi: x.hi, status: x.status, rows: Number(x.rows) }));
}

/** Records a table's chunk boundaries once; a resumed run reuses them. */
export async function registerChunks(c: pg.ClientBase, runId: string, model: string, bounds: readonly (string | null)[]): Promise<ChunkRecord[]> {
  const los = [null, ...bounds];
  const his = [...bounds, null];
  await c.query(
    `INSERT INTO ${CHECKPOINT_SCHEMA}.chunks (run_id, model, chunk_no, lo, hi)
     SELECT $1, $2, n - 1, lo, hi FROM unnest($3::text[], $4::text[]) WITH ORDINALITY AS u(lo, hi, n)
     ON CONFLICT DO NOTHING`,
    [runId, model, los, his],
  );
  return loadChunks(c, runId, model);
}

/** Marks a chunk done; called inside the transaction that wrote its rows. */
export async function markChunkDone(c: pg.ClientBase, runId: string, model: string, chunkNo: number, rows: number, ms: number): Promise<void> {
  await c.query(
    `UPDATE ${CHECKPOINT_SCHEMA}.chunks SET status = 'done', rows = $4, copied_at = now(), duration_ms = $5 WHERE run_id = $1 AND model = $2 AND chunk_no = $3`,
    [runId, model, chunkNo, rows, Math.round(ms)],
  );
}
