import type { ModelInfo } from './schema-catalog.ts';

type Row = Record<string, unknown>;
/** Reads rows of one model: a findMany/findUnique of the client the write runs on (its transaction, when known). */
export interface RowReader {
  findMany(args: { where: unknown; select: Record<string, true> }): Promise<Row[]>;
  findUnique(args: { where: unknown; select: Record<string, true> }): Promise<Row | null>;
}

const READ_BEFORE = new Set(['update', 'upsert', 'delete', 'updateMany', 'updateManyAndReturn', 'deleteMany']);
const SINGLE = new Set(['update', 'upsert', 'delete']);

/**
 * Runs a write and returns its result with the rows it touched, every scalar column of each, before
 * and after the write, whatever `select`/`omit` the caller chose: what an `invalidates` rule needs
 * to name the tags of both the old and the new place of a row (a MachineInventory row moved from
 * machine A to B invalidates both machines' lists). Rows are read before the write by its `where`
 * and after it by their primary key; the result is used where it already has every column.
 *
 * The reads run on `reader` (the write's transaction when the cache knows it); outside a
 * transaction a concurrent write to the same rows between the read and the write is not seen
 * (that write invalidates its own rows' tags).
 */
export async function runWithRows(info: ModelInfo, operation: string, args: Readonly<Row>, reader: RowReader, write: () => Promise<unknown>): Promise<{ result: unknown; rows: Row[] }> {
  const select = Object.fromEntries([...info.scalars.keys()].map((f) => [f, true as const]));
  const pk = info.uniqueKeys[0]?.fields ?? [];
  let before: Row[] = [];
  if (READ_BEFORE.has(operation)) {
    if (SINGLE.has(operation)) {
      const row = await reader.findUnique({ where: args.where, select });
      before = row ? [row] : [];
    } else {
      before = await reader.findMany({ where: args.where ?? {}, select });
    }
  }
  const result = await write();
  const returned = operation.endsWith('AndReturn') ? (result as Row[]) : SINGLE.has(operation) || operation === 'create' ? [result as Row] : [];
  const complete = (r: Row) => [...info.scalars.keys()].every((f) => Object.prototype.hasOwnProperty.call(r, f));
  let after: Row[] = [];
  if (operation === 'delete' || operation === 'deleteMany') {
    after = [];
  } else if (operation === 'createMany') {
    after = (Array.isArray(args.data) ? args.data : [args.data]) as Row[];
  } else if (returned.length > 0 && returned.every(complete)) {
    after = returned;
  } else {
    // Re-read by primary key: of the rows found before (updates), or of the rows returned (creates).
    const keysFrom = [...before, ...returned.filter((r) => pk.every((f) => r[f] !== undefined))];
    after = keysFrom.length === 0 || pk.length === 0 ? [] : await reader.findMany({ where: { OR: keysFrom.map((r) => Object.fromEntries(pk.map((f) => [f, r[f]]))) }, select });
    if (operation === 'upsert' && before.length === 0 && after.length === 0) {
      const created = await reader.findUnique({ where: args.where, select });
      if (created) after = [created];
    }
    // A create whose result names no key: what it was given (its columns, defaults aside).
    if (after.length === 0 && (operation === 'create' || operation === 'createManyAndReturn')) {
      const data = (Array.isArray(args.data) ? args.data : [args.data]) as Row[];
      after = data.map((d, i) => ({ ...d, ...returned[i] }));
    }
  }
  return { result, rows: [...before, ...after] };
}
