import type pg from 'pg';
import { qualified, quoteIdent } from '../sql/quote.ts';
import type { TableMapping } from './split-plan.ts';

/**
 * Key boundaries that cut a table into chunks of about `chunkRows` rows. They come from the
 * planner's histogram of the key (free) when the table has been analyzed, else from one scan of
 * the key index. Boundaries only need to be stable, not exact: chunk i is (b[i-1], b[i]], the
 * first and last chunks are unbounded, so every row lands in exactly one chunk whatever the data.
 */
export async function chunkBounds(src: pg.ClientBase, t: TableMapping, chunkRows: number): Promise<string[]> {
  if (!t.sourceKey) return [];
  const est = t.estimate;
  const chunks = Math.ceil(est / chunkRows);
  if (chunks <= 1) return [];
  const hist = await src.query<{ b: string[] | null }>(
    `SELECT histogram_bounds::text::text[] AS b FROM pg_stats WHERE schemaname = $1 AND tablename = $2 AND attname = $3`,
    [t.sourceSchema, t.sourceTable, t.sourceKey],
  );
  const bounds = hist.rows[0]?.b;
  if (bounds && bounds.length >= chunks + 1) {
    const picked: string[] = [];
    for (let i = 1; i < chunks; i++) picked.push(bounds[Math.round((i * (bounds.length - 1)) / chunks)] as string);
    return [...new Set(picked)];
  }
  const key = quoteIdent(t.sourceKey);
  const r = await src.query<{ k: string }>(
    `SELECT k FROM (SELECT ${key}::text AS k, row_number() OVER (ORDER BY ${key}) AS rn FROM ${qualified(t.sourceSchema, t.sourceTable)}) x
      WHERE rn % $1 = 0 ORDER BY rn`,
    [chunkRows],
  );
  return r.rows.map((x) => x.k);
}
