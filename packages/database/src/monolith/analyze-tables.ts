import type pg from 'pg';
import { qualified } from '../sql/quote.ts';

/**
 * ANALYZE every table of the database's own schemas, so `pg_class.reltuples` and the planner's
 * statistics match the freshly loaded rows. Spreads the work over the given connections, largest
 * tables first, each to the connection with the least assigned so far (by on-disk size).
 */
export async function analyzeTables(clients: readonly pg.ClientBase[]): Promise<void> {
  const [first] = clients;
  if (!first) return;
  const { rows } = await first.query<{ schema: string; name: string; bytes: string }>(
    `SELECT n.nspname AS schema, c.relname AS name, pg_total_relation_size(c.oid) AS bytes
     FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
     WHERE c.relkind IN ('r', 'p', 'm') AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\\_%'
     ORDER BY pg_total_relation_size(c.oid) DESC, 1, 2`,
  );
  const lanes = clients.map(() => ({ bytes: 0, tables: [] as string[] }));
  for (const r of rows) {
    const lane = lanes.reduce((a, b) => (b.bytes < a.bytes ? b : a));
    lane.bytes += Number(r.bytes);
    lane.tables.push(qualified(r.schema, r.name));
  }
  await Promise.all(lanes.map((lane, k) => (lane.tables.length ? (clients[k] as pg.ClientBase).query(`ANALYZE ${lane.tables.join(', ')}`) : undefined)));
}
