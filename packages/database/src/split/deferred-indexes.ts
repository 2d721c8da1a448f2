import type pg from 'pg';
import { withDatabase, withTransaction, type PooledDatabase } from '../db/with-database.ts';
import { qualified } from '../sql/quote.ts';
import { CHECKPOINT_SCHEMA, DEFERRED_TABLE } from './checkpoint-store.ts';
import type { TableMapping } from './split-plan.ts';

/**
 * Load like pg_restore: before the copy, a run records the secondary indexes, primary/unique keys
 * and foreign keys of its target tables (their exact DDL, read from the catalog) and drops them, in
 * one transaction per target database; after a table's data it builds them again, each object in
 * its own transaction that also marks it done, so an interruption keeps what was built and a
 * resumed run builds the rest. Every target ends exactly as `migrate` made it.
 *
 *   index        CREATE [UNIQUE] INDEX, as pg_get_indexdef printed it (also the index of a key)
 *   key          ALTER TABLE … ADD CONSTRAINT … PRIMARY KEY|UNIQUE USING INDEX (after its index)
 *   foreign-key  ALTER TABLE … ADD CONSTRAINT … FOREIGN KEY …, as pg_get_constraintdef printed it
 *                (after both tables' data and the referenced table's keys)
 *
 * Left in place (copied into as before): objects of tables the role does not own, partitioned
 * tables, exclusion and deferrable key constraints, keys that a foreign key from a table outside
 * the run depends on, replica-identity indexes, and check constraints (cheap per row).
 */
export type DeferredKind = 'index' | 'key' | 'foreign-key';

export interface DeferredObject {
  readonly model: string;
  readonly seq: number;
  readonly kind: DeferredKind;
  readonly name: string;
  /** The table it belongs to, qualified and quoted. */
  readonly table: string;
  /** foreign-key: the referenced table, qualified and quoted. */
  readonly refTable: string | null;
  /** foreign-key: the model of the referenced table when the run copies it (its data must be there first). */
  readonly refModel: string | null;
  readonly ddl: string;
  readonly status: 'pending' | 'done';
}

interface CatalogRow {
  table_oid: number;
  tbl: string;
  kind: DeferredKind;
  name: string;
  ddl: string;
  ref_tbl: string | null;
  ref_oid: number | null;
  drop_sql: string | null;
}

/**
 * What can be deferred on `tables` (all in this database), in build order, with the statement that
 * drops it. Keys are listed as two objects (their index, then the constraint using it).
 */
async function readDeferrable(c: pg.ClientBase, tables: readonly TableMapping[]): Promise<CatalogRow[]> {
  const names = tables.map((t) => qualified(t.targetSchema, t.targetTable));
  const r = await c.query<CatalogRow>(
    `WITH tabs AS (
       SELECT c.oid, c.oid::regclass::text AS tbl FROM unnest($1::text[]) AS u(n) JOIN pg_class c ON c.oid = to_regclass(u.n)
        WHERE c.relkind = 'r' AND pg_has_role(c.relowner, 'USAGE')),
     fks AS (
       SELECT k.oid, k.conrelid, k.conname, k.confrelid, k.conindid FROM pg_constraint k JOIN tabs t ON t.oid = k.conrelid WHERE k.contype = 'f'),
     keys AS (
       SELECT k.oid, k.conrelid, k.conname, k.contype, k.conindid FROM pg_constraint k JOIN tabs t ON t.oid = k.conrelid
        WHERE k.contype IN ('p', 'u') AND NOT k.condeferrable
          AND NOT EXISTS (SELECT 1 FROM pg_constraint f WHERE f.contype = 'f' AND f.conindid = k.conindid AND f.oid NOT IN (SELECT oid FROM fks))
          AND NOT EXISTS (SELECT 1 FROM pg_index i WHERE i.indexrelid = k.conindid AND i.indisreplident))
     SELECT t.oid::int AS table_oid, t.tbl, 'foreign-key' AS kind, f.conname AS name,
            format('ALTER TABLE ONLY %s ADD CONSTRAINT %I %s', t.tbl, f.conname, pg_get_constraintdef(f.oid)) AS ddl,
            f.confrelid::regclass::text AS ref_tbl, f.confrelid::int AS ref_oid, format('ALTER TABLE ONLY %s DROP CONSTRAINT %I', t.tbl, f.conname) AS drop_sql
       FROM fks f JOIN tabs t ON t.oid = f.conrelid
     UNION ALL
     SELECT t.oid::int, t.tbl, 'key', k.conname,
            format('ALTER TABLE ONLY %s ADD CONSTRAINT %I %s USING INDEX %I', t.tbl, k.conname, CASE k.contype WHEN 'p' THEN 'PRIMARY KEY' ELSE 'UNIQUE' END, i.relname),
            NULL, NULL, format('ALTER TABLE ONLY %s DROP CONSTRAINT %I', t.tbl, k.conname)
       FROM keys k JOIN tabs t ON t.oid = k.conrelid JOIN pg_class i ON i.oid = k.conindid
     UNION ALL
     SELECT t.oid::int, t.tbl, 'index', ic.relname, pg_get_indexdef(i.indexrelid), NULL, NULL,
            CASE WHEN k.oid IS NULL THEN format('DROP INDEX %s', i.indexrelid::regclass::text) END
       FROM pg_index i JOIN tabs t ON t.oid = i.indrelid JOIN pg_class ic ON ic.oid = i.indexrelid
       LEFT JOIN keys k ON k.conindid = i.indexrelid
      WHERE NOT i.indisreplident AND i.indisvalid
        AND (k.oid IS NOT NULL OR NOT EXISTS (SELECT 1 FROM pg_constraint x WHERE x.conindid = i.indexrelid AND x.contype IN ('p','u','x')))`,
    [names],
  );
  const order: Record<DeferredKind, number> = { index: 0, key: 1, 'foreign-key': 2 };
  return r.rows.sort((a, b) => order[a.kind] - order[b.kind] || a.tbl.localeCompare(b.tbl) || a.name.localeCompare(b.name));
}

/**
 * Records and drops the deferrable objects of `tables` for `runId`, in one transaction, unless this
 * run already did (a resumed run). Returns every object recorded for the run in this database.
 */
export async function deferIndexes(db: PooledDatabase, runId: string, tables: readonly TableMapping[]): Promise<DeferredObject[]> {
  return withTransaction(db, async (c) => {
    await c.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`vendhub:split:defer:${runId}`]);
    const already = (await c.query(`SELECT 1 FROM ${DEFERRED_TABLE} WHERE run_id = $1 LIMIT 1`, [runId])).rowCount;
    const marker = (await c.query(`SELECT 1 FROM ${CHECKPOINT_SCHEMA}.runs WHERE run_id = $1 AND deferred`, [runId])).rowCount;
    if (!already && !marker) {
      const rows = await readDeferrable(c, tables);
      const byOid = new Map<number, string>();
      for (const t of tables) {
        const oid = (await c.query<{ o: number | null }>('SELECT to_regclass($1)::oid::int AS o', [qualified(t.targetSchema, t.targetTable)])).rows[0]?.o;
        if (oid) byOid.set(oid, t.model);
      }
      let seq = 0;
      for (const row of rows) {
        await c.query(
          `INSERT INTO ${DEFERRED_TABLE} (run_id, model, seq, kind, name, tbl, ref_tbl, ref_model, ddl) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
          [runId, byOid.get(row.table_oid), seq++, row.kind, row.name, row.tbl, row.ref_tbl, row.ref_oid === null ? null : (byOid.get(row.ref_oid) ?? null), row.ddl],
        );
      }
      // Foreign keys first (they depend on the keys), then keys (their index goes with them), then plain indexes.
      for (const kind of ['foreign-key', 'key', 'index'] as const) {
        for (const row of rows) if (row.kind === kind && row.drop_sql) await c.query(row.drop_sql);
      }
      await c.query(`UPDATE ${CHECKPOINT_SCHEMA}.runs SET deferred = true WHERE run_id = $1`, [runId]);
    }
    return loadDeferred(c, runId);
  });
}

export async function loadDeferred(c: pg.ClientBase, runId: string): Promise<DeferredObject[]> {
  const r = await c.query<{ model: string; seq: number; kind: DeferredKind; name: string; tbl: string; ref_tbl: string | null; ref_model: string | null; ddl: string; status: 'pending' | 'done' }>(
    `SELECT model, seq, kind, name, tbl, ref_tbl, ref_model, ddl, status FROM ${DEFERRED_TABLE} WHERE run_id = $1 ORDER BY seq`,
    [runId],
  );
  return r.rows.map((x) => ({ model: x.model, seq: x.seq, kind: x.kind, name: x.name, table: x.tbl, refTable: x.ref_tbl, refModel: x.ref_model, ddl: x.ddl, status: x.status }));
}

/**
 * Builds one deferred object and marks it done in the same transaction: after a crash it is
 * either there and recorded, or absent and pending.
 */
export async function buildDeferred(db: PooledDatabase, runId: string, o: DeferredObject, maintenanceWorkMem = '256MB'): Promise<void> {
  const started = performance.now();
  await withTransaction(db, async (c) => {
    await c.query(o.ddl);
    await c.query(
      `UPDATE ${DEFERRED_TABLE} SET status = 'done', built_at = now(), duration_ms = $4 WHERE run_id = $1 AND model = $2 AND seq = $3`,
      [runId, o.model, o.seq, Math.round(performance.now() - started)],
    );
  }, { local: { maintenance_work_mem: maintenanceWorkMem } });
}

/**
 * Objects that runs never finished building (a run interrupted and then abandoned for a new one):
 * built now, before a new run reads the targets, so its plan, preflight and final schema see every
 * index and constraint `migrate` made.
 */
export async function restoreAbandoned(db: PooledDatabase): Promise<DeferredObject[]> {
  const pending = await withDatabase(db, async (c) => {
    const exists = (await c.query(`SELECT to_regclass('${DEFERRED_TABLE}') AS t`)).rows[0]?.t;
    if (!exists) return [];
    const runs = (await c.query<{ run_id: string }>(`SELECT DISTINCT run_id FROM ${DEFERRED_TABLE} WHERE status = 'pending'`)).rows;
    const out: { runId: string; o: DeferredObject }[] = [];
    for (const { run_id } of runs) for (const o of await loadDeferred(c, run_id)) if (o.status === 'pending') out.push({ runId: run_id, o });
    return out;
  });
  const built: DeferredObject[] = [];
  for (const { runId, o } of pending) {
    // Targets dropped and migrated again since (or the object made by hand): nothing to build.
    const skip = await withDatabase(db, async (c) => {
      if (!(await presentOrTableGone(c, o))) return false;
      await c.query(`UPDATE ${DEFERRED_TABLE} SET status = 'done' WHERE run_id = $1 AND model = $2 AND seq = $3`, [runId, o.model, o.seq]);
      return true;
    });
    if (skip) continue;
    await buildDeferred(db, runId, o);
    built.push(o);
  }
  return built;
}

async function presentOrTableGone(c: pg.ClientBase, o: DeferredObject): Promise<boolean> {
  const r = await c.query<{ gone: boolean; present: boolean }>(
    `SELECT to_regclass($1) IS NULL AS gone,
            CASE WHEN $3 = 'index' THEN EXISTS (SELECT 1 FROM pg_index i JOIN pg_class x ON x.oid = i.indexrelid WHERE i.indrelid = to_regclass($1) AND x.relname = $2)
                 ELSE EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conrelid = to_regclass($1) AND k.conname = $2) END AS present`,
    [o.table, o.name, o.kind],
  );
  return r.rows[0]?.gone === true || r.rows[0]?.present === true;
}

/** Tables a deferred object takes a conflicting lock on, and whether it must have them alone. */
export function locksOf(o: DeferredObject): { table: string; exclusive: boolean }[] {
  if (o.kind === 'index') return [{ table: o.table, exclusive: false }];
  if (o.kind === 'key') return [{ table: o.table, exclusive: true }];
  return [{ table: o.table, exclusive: true }, ...(o.refTable && o.refTable !== o.table ? [{ table: o.refTable, exclusive: true }] : [])];
}
