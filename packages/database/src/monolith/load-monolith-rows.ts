import type pg from 'pg';
import { copyRows } from './copy-rows.ts';
import { dropIndexes, recreateIndexes, type DroppedIndexes } from './deferred-indexes.ts';
import type { MonolithContext } from './monolith-context.ts';
import { MONOLITH_TABLES, type MonolithTable } from './monolith-counts.ts';
import { MONOLITH_ROWS } from './monolith-rows.ts';

/** Tables big enough that building their indexes after the load beats maintaining them during it. */
const BULK_TABLES: readonly MonolithTable[] = ['MachineTelemetry', 'Transaction'];

/** Loaded first: every other table points at one of these. */
const PARENT_TABLES: readonly MonolithTable[] = ['Location', 'User', 'InventoryItem', 'Machine'];

/** Dwarfs all other tables together: loaded in parts, one per side connection. */
const BIG_TABLE: MonolithTable = 'MachineTelemetry';

/**
 * Loads the twelve tables: parents first on `main`; then the big table in parts on `sides` (at
 * least one) while `main` loads the rest; then the bulk tables get their keys and indexes back. One COPY
 * backend is the bottleneck of a single stream, so parallel streams keep both cores busy. If
 * any stream fails, every connection is ended so the other COPYs stop too, and the first
 * failure is the one reported.
 */
export async function loadMonolithRows(
  main: pg.Client,
  sides: readonly pg.Client[],
  ctx: MonolithContext,
  onProgress?: (table: string, rows: number) => void,
): Promise<void> {
  if (sides.length === 0) throw new RangeError('loadMonolithRows needs at least one side connection');
  const done = new Map<string, number>();
  const progress = (table: string) => (more: number) => {
    const total = (done.get(table) ?? 0) + more;
    done.set(table, total);
    onProgress?.(table, total);
  };
  const load = async (client: pg.Client, tables: readonly MonolithTable[]): Promise<void> => {
    for (const table of tables) await copyRows(client, MONOLITH_ROWS[table](ctx), undefined, progress(table));
  };
  await load(main, PARENT_TABLES);
  const dropped: DroppedIndexes[] = [];
  for (const table of BULK_TABLES) dropped.push(await dropIndexes(main, table));

  const count = ctx.counts[BIG_TABLE];
  const bounds = sides.map((_, k) => Math.floor((count * k) / sides.length)).concat(count);
  const bigParts = sides.map((client, k) =>
    copyRows(client, MONOLITH_ROWS[BIG_TABLE](ctx), { from: bounds[k] as number, to: bounds[k + 1] as number }, progress(BIG_TABLE)),
  );
  const rest = load(main, MONOLITH_TABLES.filter((t) => !PARENT_TABLES.includes(t) && t !== BIG_TABLE));
  const all = [main, ...sides];
  await allOrAbort([rest, ...bigParts], all);
  // One table per connection: sorted index builds are the slow part and each is single-table.
  await allOrAbort(dropped.map((d, k) => recreateIndexes(all[k % all.length] as pg.Client, d)), all);
}

/** Awaits every stream; on the first failure ends all clients (stopping their COPYs) and rethrows it. */
async function allOrAbort(streams: readonly Promise<void>[], clients: readonly pg.Client[]): Promise<void> {
  let failure: { error: unknown } | undefined;
  const settle = (p: Promise<void>): Promise<void> =>
    p.catch((error: unknown) => {
      if (failure) return;
      failure = { error };
      for (const c of clients) void c.end().catch(() => {});
    });
  await Promise.all(streams.map(settle));
  if (failure) throw failure.error;
}
