import type pg from 'pg';
import { qualified, quoteIdent } from '../sql/quote.ts';
import type { TableMapping } from '../split/split-plan.ts';
import type { TableInfo } from '../catalog/table-catalog.ts';

/** A source row as pgoutput delivers it: text values, null, or undefined for an unchanged TOAST value. */
export type SourceRow = Record<string, string | null | undefined>;

/** The key the follower applies a target table's changes by: its primary key, else its first unique set of NOT NULL columns. */
export function applyKey(target: TableInfo | undefined): readonly string[] {
  if (!target) return [];
  if (target.primaryKey.length) return target.primaryKey;
  return target.uniques.find((u) => u.every((k) => target.columns.find((c) => c.name === k)?.notNull)) ?? [];
}

/**
 * Applies one source table's changes to its target table through the mapping (renamed columns,
 * columns left to their default), idempotently by the target's key (primary key, else unique NOT
 * NULL columns): insert and update are upserts, delete is by key. Values stay text and are cast by
 * the target column's type, so enums, arrays, jsonb and timestamps arrive exactly as the source
 * printed them.
 *
 * A target key no source column feeds (the surrogate key `split scaffold` gives a table without a
 * primary key) cannot be looked up from a change: then rows are matched by every mapped column,
 * which needs the source's REPLICA IDENTITY FULL (the follow preflight checks it). An insert is a
 * plain INSERT (the key fills itself), an update or delete changes exactly one row whose columns
 * all equal the old row (identical duplicates are interchangeable), and one that finds no such row
 * stops the follower instead of being dropped.
 */
export class TableApplier {
  readonly mapping: TableMapping;
  /** [source column, target column] pairs. */
  private readonly cols: readonly (readonly [string, string])[];
  /** Target key columns and the source columns they come from. */
  private readonly key: readonly (readonly [string, string])[];
  private readonly table: string;
  /**
   * The streamed table's columns when the plan was made (mapped or ignored alike): a Relation
   * message with another column means the table changed shape since. Undefined: not checked.
   */
  readonly streamedColumns: ReadonlySet<string> | undefined;
  /** True when the target key is not fed by source columns: rows are matched by all their columns. */
  readonly matchesWholeRows: boolean;

  constructor(mapping: TableMapping, targetPrimaryKey: readonly string[], streamedColumns?: Iterable<string>) {
    this.mapping = mapping;
    this.streamedColumns = streamedColumns ? new Set(streamedColumns) : undefined;
    this.cols = mapping.columns.filter((c) => c.kind === 'column').map((c) => [c.source, c.target] as const);
    const fed = targetPrimaryKey.length > 0 && targetPrimaryKey.every((k) => this.cols.some(([, t]) => t === k));
    this.matchesWholeRows = !fed;
    this.key = fed ? targetPrimaryKey.map((k) => [(this.cols.find(([, t]) => t === k) as readonly [string, string])[0], k] as const) : [];
    this.table = qualified(mapping.targetSchema, mapping.targetTable);
  }

  /** An insert (`old` null) or an update found by its whole old row; only for `matchesWholeRows`. */
  async applyRow(c: pg.ClientBase, old: SourceRow | null, row: SourceRow): Promise<void> {
    const present = this.cols.filter(([s]) => row[s] !== undefined);
    if (old === null) {
      await c.query(`INSERT INTO ${this.table} (${present.map(([, t]) => quoteIdent(t)).join(', ')}) VALUES (${present.map((_, i) => `$${i + 1}`).join(', ')})`,
        present.map(([s]) => row[s] ?? null));
      return;
    }
    const params = present.map(([s]) => row[s] ?? null);
    const found = this.matchOne(old, params);
    const r = await c.query(`UPDATE ${this.table} SET ${present.map(([, t], i) => `${quoteIdent(t)} = $${i + 1}`).join(', ')} WHERE ctid = (${found})`, params);
    if ((r.rowCount ?? 0) !== 1) throw new Error(`${this.table}: no row equal to the updated source row (matched by every column: the table has no key fed by the source); the target differs from the source`);
  }

  /** A delete found by its whole old row; only for `matchesWholeRows`. */
  async deleteRow(c: pg.ClientBase, old: SourceRow): Promise<void> {
    const params: unknown[] = [];
    const r = await c.query(`DELETE FROM ${this.table} WHERE ctid = (${this.matchOne(old, params)})`, params);
    if ((r.rowCount ?? 0) !== 1) throw new Error(`${this.table}: no row equal to the deleted source row (matched by every column: the table has no key fed by the source); the target differs from the source`);
  }

  /** SELECT of the ctid of one target row whose mapped columns all equal `old` (parameters appended to `params`). */
  private matchOne(old: SourceRow, params: unknown[]): string {
    const missing = this.cols.filter(([s]) => old[s] === undefined).map(([s]) => s);
    if (missing.length) throw new Error(`${this.table}: the change carries no old value of ${missing.join(', ')}: rows without a key need REPLICA IDENTITY FULL on the source table ${this.mapping.sourceSchema}.${this.mapping.sourceTable}`);
    const conds = this.cols.map(([s, t]) => {
      params.push(old[s] ?? null);
      return `${quoteIdent(t)} IS NOT DISTINCT FROM $${params.length}`;
    });
    return `SELECT ctid FROM ${this.table} WHERE ${conds.join(' AND ')} LIMIT 1 FOR UPDATE`;
  }

  async upsert(c: pg.ClientBase, row: SourceRow): Promise<void> {
    const present = this.cols.filter(([s]) => row[s] !== undefined);
    // An unchanged TOAST value (undefined) is not overwritten: the target keeps its own. Such a row
    // is only ever an update of a row the target has, so it is an UPDATE (an INSERT would need it).
    if (present.length < this.cols.length && (await this.update(c, row, present)) > 0) return;
    const names = present.map(([, t]) => quoteIdent(t));
    const keyNames = new Set(this.key.map(([, t]) => t));
    const sets = present.filter(([, t]) => !keyNames.has(t)).map(([, t]) => `${quoteIdent(t)} = EXCLUDED.${quoteIdent(t)}`);
    const conflict = `ON CONFLICT (${this.key.map(([, t]) => quoteIdent(t)).join(', ')}) DO ${sets.length ? `UPDATE SET ${sets.join(', ')}` : 'NOTHING'}`;
    await c.query(`INSERT INTO ${this.table} (${names.join(', ')}) VALUES (${present.map((_, i) => `$${i + 1}`).join(', ')}) ${conflict}`,
      present.map(([s]) => row[s] ?? null));
  }

  private async update(c: pg.ClientBase, row: SourceRow, present: readonly (readonly [string, string])[]): Promise<number> {
    const keyNames = new Set(this.key.map(([, t]) => t));
    const sets = present.filter(([, t]) => !keyNames.has(t));
    if (sets.length === 0) return 1;
    const params = [...sets.map(([s]) => row[s] ?? null), ...this.key.map(([s]) => row[s] ?? null)];
    const r = await c.query(`UPDATE ${this.table} SET ${sets.map(([, t], i) => `${quoteIdent(t)} = $${i + 1}`).join(', ')}
      WHERE ${this.key.map(([, t], i) => `${quoteIdent(t)} = $${sets.length + i + 1}`).join(' AND ')}`, params);
    return r.rowCount ?? 0;
  }

  /**
   * A changed primary key, applied as PostgreSQL's own subscriber does: one UPDATE of the row
   * found by the old key (the replica identity), setting the new key and every value sent, so
   * unchanged TOASTed values (not sent) stay, and children in the target follow by their ON
   * UPDATE rule instead of being deleted (CASCADE) or blocking the change (RESTRICT). A row the
   * target does not have (yet) is upserted as usual.
   */
  async updateKey(c: pg.ClientBase, old: SourceRow, row: SourceRow): Promise<void> {
    const present = this.cols.filter(([s]) => row[s] !== undefined);
    const params = [...present.map(([s]) => row[s] ?? null), ...this.key.map(([s]) => old[s] ?? null)];
    const r = await c.query(`UPDATE ${this.table} SET ${present.map(([, t], i) => `${quoteIdent(t)} = $${i + 1}`).join(', ')}
      WHERE ${this.key.map(([, t], i) => `${quoteIdent(t)} = $${present.length + i + 1}`).join(' AND ')}`, params);
    if ((r.rowCount ?? 0) === 0) await this.upsert(c, row);
  }

  /** The target key's values in a source row, by target column (for messages). */
  keyOf(row: SourceRow): Record<string, string | null> {
    return Object.fromEntries(this.key.map(([s, t]) => [t, row[s] ?? null]));
  }

  /**
   * The row's verify key (the mapping's source key, as `split verify` compares it) as text, for the
   * touched-keys record; null when the table has no such key or the row does not carry it (the
   * whole table is then re-verified at the fence).
   */
  verifyKeyOf(row: SourceRow): string | null {
    const k = this.mapping.sourceKey;
    const v = k === undefined ? undefined : row[k];
    return typeof v === 'string' ? v : null;
  }

  async delete(c: pg.ClientBase, keyRow: SourceRow): Promise<void> {
    await c.query(`DELETE FROM ${this.table} WHERE ${this.key.map(([, t], i) => `${quoteIdent(t)} = $${i + 1}`).join(' AND ')}`,
      this.key.map(([s]) => keyRow[s] ?? null));
  }

  /** True when `old` (the replica identity of an update) names another row than `row`. */
  keyChanged(old: SourceRow | null, row: SourceRow): boolean {
    if (!old) return false;
    return this.key.some(([s]) => old[s] !== undefined && old[s] !== row[s]);
  }

  get targetName(): string {
    return this.table;
  }
}
