import type pg from 'pg';
import { quoteIdent } from '../sql/quote.ts';

interface SavedDefinition {
  readonly name: string;
  readonly definition: string;
}

/** What `dropIndexes` removed from a table, as PostgreSQL itself printed it. */
export interface DroppedIndexes {
  readonly table: string;
  readonly keys: readonly SavedDefinition[];
  readonly indexes: readonly SavedDefinition[];
  readonly foreignKeys: readonly SavedDefinition[];
}

/**
 * First half of loading a big table the way pg_restore does: drops its indexes, primary/unique
 * keys and foreign keys, remembering their definitions (`pg_get_indexdef`, `pg_get_constraintdef`).
 * One sorted index build after the load is far cheaper than a million b-tree inserts during it,
 * and one foreign-key validation query far cheaper than a million per-row checks.
 *
 * Committed on its own rather than wrapped around the load: the drop holds a strong lock on the
 * referenced tables until commit, which would stall every other table's COPY. A build that fails
 * in between leaves a half-built database, which it does anyway. Fails on a table that other
 * tables' foreign keys point at (its key cannot be dropped).
 */
export async function dropIndexes(client: pg.ClientBase, table: string): Promise<DroppedIndexes> {
  const rel = quoteIdent(table);
  const keys = await constraints(client, rel, `contype IN ('p', 'u', 'x')`);
  const foreignKeys = await constraints(client, rel, `contype = 'f'`);
  const { rows: indexes } = await client.query<SavedDefinition>(
    `SELECT indexrelid::regclass::text AS name, pg_get_indexdef(indexrelid) AS definition FROM pg_index i
     WHERE indrelid = $1::regclass AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conrelid = i.indrelid AND c.conindid = i.indexrelid)
     ORDER BY 1`,
    [rel],
  );
  const drops = [
    ...foreignKeys.map((c) => `ALTER TABLE ${rel} DROP CONSTRAINT ${quoteIdent(c.name)}`),
    ...keys.map((c) => `ALTER TABLE ${rel} DROP CONSTRAINT ${quoteIdent(c.name)}`),
    ...indexes.map((ix) => `DROP INDEX ${ix.name}`),
  ];
  // One query string: PostgreSQL runs its statements as one (implicit) transaction.
  if (drops.length > 0) await client.query(drops.join(';\n'));
  return { table, keys, indexes, foreignKeys };
}

/**
 * Second half: recreates what `dropIndexes` removed, under the same names and definitions, keys
 * first, foreign keys last (their validation proves every reference in the loaded rows).
 */
export async function recreateIndexes(client: pg.ClientBase, dropped: DroppedIndexes): Promise<void> {
  const rel = quoteIdent(dropped.table);
  const creates = [
    ...dropped.keys.map((c) => `ALTER TABLE ${rel} ADD CONSTRAINT ${quoteIdent(c.name)} ${c.definition}`),
    ...dropped.indexes.map((ix) => ix.definition),
    ...dropped.foreignKeys.map((c) => `ALTER TABLE ${rel} ADD CONSTRAINT ${quoteIdent(c.name)} ${c.definition}`),
  ];
  if (creates.length === 0) return;
  // One query string, one implicit transaction (SET LOCAL holds for it).
  await client.query([`SET LOCAL maintenance_work_mem = '256MB'`, ...creates].join(';\n'));
}

async function constraints(client: pg.ClientBase, rel: string, kind: string): Promise<SavedDefinition[]> {
  const { rows } = await client.query<SavedDefinition>(
    `SELECT conname AS name, pg_get_constraintdef(oid) AS definition FROM pg_constraint
     WHERE conrelid = $1::regclass AND ${kind} ORDER BY conname`,
    [rel],
  );
  return rows;
}
