import type pg from 'pg';
import { qualified, quoteIdent } from '../sql/quote.ts';
import type { TableMapping } from './split-plan.ts';

/**
 * Moves every sequence or identity column of the target tables past the largest copied value, so
 * the first insert after the split does not collide. Returns `schema.table.column -> value` lines.
 */
export async function syncSequences(c: pg.ClientBase, tables: readonly TableMapping[]): Promise<string[]> {
  const out: string[] = [];
  for (const t of tables) {
    const r = await c.query<{ col: string; seq: string }>(
      `SELECT a.attname AS col, pg_get_serial_sequence($1, a.attname) AS seq FROM pg_attribute a
        WHERE a.attrelid = $1::regclass AND a.attnum > 0 AND NOT a.attisdropped AND pg_get_serial_sequence($1, a.attname) IS NOT NULL`,
      [qualified(t.targetSchema, t.targetTable)],
    );
    for (const { col, seq } of r.rows) {
      const v = await c.query<{ v: string }>(
        `SELECT setval($1, greatest(coalesce((SELECT max(${quoteIdent(col)}) FROM ${qualified(t.targetSchema, t.targetTable)}), 0), 1), true)::text AS v`,
        [seq],
      );
      out.push(`${t.targetSchema}.${t.targetTable}.${col} -> ${v.rows[0]?.v}`);
    }
  }
  return out;
}
