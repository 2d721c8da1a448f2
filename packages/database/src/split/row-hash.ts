import type { ColumnInfo, TableInfo } from '../catalog/table-catalog.ts';
import { qualified, quoteIdent, quoteLiteral } from '../sql/quote.ts';
import type { TableMapping } from './split-plan.ts';
import { narrowing } from './type-compat.ts';

/**
 * Session settings that make a value's text form the same on every server, so a row hashed in the
 * source and the same row hashed in a target give the same number. lc_monetary fixes money's text.
 */
export const CANONICAL_SESSION = "SET extra_float_digits = 1; SET datestyle = 'ISO, MDY'; SET timezone = 'UTC'; SET intervalstyle = 'postgres'; SET bytea_output = 'hex'; SET lc_monetary = 'C'";

/** A range of the chunking key: (lo, hi], null meaning unbounded. */
export interface KeyRange {
  readonly lo: string | null;
  readonly hi: string | null;
}

export interface SideSql {
  readonly from: string;
  readonly key: string;
  readonly rowText: string;
  readonly filters: readonly string[];
}

/**
 * How one table is read for hashing on each side. Each column is compared in one type on both
 * sides: the target's when the mapping keeps every value (the source is converted the way COPY
 * converts it), the source's when the mapping can lose information and the plan file did not
 * accept that (the target value is cast back up, so a rounded or cut value shows as a difference).
 */
export function hashSides(t: TableMapping, source: TableInfo | undefined, target: TableInfo, filters: readonly string[], sameOrdering: boolean): { source: SideSql; target: SideSql } {
  const tcol = (name: string) => target.columns.find((c) => c.name === name) as ColumnInfo;
  // When the two keys sort alike, ranges use their indexes; otherwise both sides compare bytes
  // (COLLATE "C"), slower but the only way two differently collated databases agree on a range.
  const textKey = t.targetKey !== undefined && ['text', 'varchar', 'bpchar'].includes(tcol(t.targetKey).baseType);
  const collate = textKey && !sameOrdering ? ' COLLATE "C"' : '';
  const srcParts: string[] = [];
  const tgtParts: string[] = [];
  for (const c of t.columns) {
    const info = tcol(c.target);
    const scol = c.kind === 'column' ? source?.columns.find((x) => x.name === c.source) : undefined;
    const pair = comparedValues(c.kind === 'column' ? `s.${c.sourceSql}` : c.sourceSql, `t.${quoteIdent(c.target)}`, scol, info, c.acceptedLoss !== undefined);
    srcParts.push(pair.source);
    tgtParts.push(pair.target);
  }
  return {
    source: { from: `${qualified(t.sourceSchema, t.sourceTable)} s`, key: `(s.${quoteIdent(t.sourceKey ?? 'ctid')}${collate})`, rowText: rowText(srcParts), filters },
    target: { from: `${qualified(t.targetSchema, t.targetTable)} t`, key: `(t.${quoteIdent(t.targetKey ?? 'ctid')}${collate})`, rowText: rowText(tgtParts), filters: [] },
  };
}

/** Source and target SQL for one column, both yielding values of the type they are compared in. */
export function comparedValues(
  srcExpr: string, tgtExpr: string, scol: Pick<ColumnInfo, 'baseType' | 'type' | 'enumLabels' | 'isArray'> | undefined,
  tcol: Pick<ColumnInfo, 'baseType' | 'type' | 'enumLabels' | 'isArray'>, lossAccepted: boolean,
): { source: string; target: string } {
  // Enum labels are their text on both sides (the types are different types in each database).
  if (tcol.enumLabels) return { source: `(${srcExpr})`, target: tgtExpr };
  if (scol && !lossAccepted && !scol.isArray && !tcol.isArray && narrowing(scol, tcol)) return { source: srcExpr, target: `(${tgtExpr})::${scol.type}` };
  // COPY moves these through their shortest exact text; a direct cast (float8::numeric keeps 15
  // digits, float4::float8 shows binary noise) would not be what the copy wrote.
  if (scol && FLOATS.has(scol.baseType) && scol.baseType !== tcol.baseType) return { source: `((${srcExpr})::text::${tcol.type})`, target: tgtExpr };
  return { source: `((${srcExpr})::${tcol.type})`, target: tgtExpr };
}

const FLOATS = new Set(['float4', 'float8']);

/**
 * One row's fingerprint text: the row's record text, i.e. every value in its type's text form under
 * CANONICAL_SESSION, quoted and comma-separated (NULL is empty, '' is ""). That form is injective
 * for every type, unlike PostgreSQL's equality hashes, which make different values collide on
 * purpose ('{}' and '[]' in jsonb, 0 and -0, '1 day' and '24 hours', 1.0 and 1.00, array
 * dimensions, case under a nondeterministic collation, int8 values whose halves XOR alike).
 * Values PostgreSQL stores identically (jsonb key order, whitespace) print identically.
 */
export function rowText(values: readonly string[]): string {
  return `(ROW(${values.join(', ')})::text COLLATE "C")`;
}

/** The 64-bit hash of one row's fingerprint text. */
export function rowHashSql(values: readonly string[]): string {
  return `hashtextextended(${rowText(values)}, 7)`;
}

function where(side: SideSql, r: KeyRange, hasKey: boolean): string {
  const w = [...side.filters];
  if (hasKey && r.lo !== null) w.push(`${side.key} > ${quoteLiteral(r.lo)}`);
  if (hasKey && r.hi !== null) w.push(`${side.key} <= ${quoteLiteral(r.hi)}`);
  return w.length ? ` WHERE ${w.map((x) => `(${x})`).join(' AND ')}` : '';
}

/** count and an order-independent 64-bit-per-row hash sum of a key range. */
export function rangeSummarySql(side: SideSql, r: KeyRange, hasKey: boolean): string {
  return `SELECT count(*)::text AS n, coalesce(sum(hashtextextended(${side.rowText}, 7)::numeric), 0)::text AS h FROM ${side.from}${where(side, r, hasKey)}`;
}

/** Every row's key and hash in a (small) range, for pinpointing differences. */
export function rangeRowsSql(side: SideSql, r: KeyRange, hasKey: boolean): string {
  return `SELECT ${side.key}::text AS k, hashtextextended(${side.rowText}, 7)::text AS h FROM ${side.from}${where(side, r, hasKey)}`;
}

/**
 * Every row's key and hash among the given keys (`$1`, an array of key values as text, cast to
 * the key column's type by PostgreSQL): the fence of a verified cutover re-hashes only the rows
 * changed since the background pass. `keyColumn` is the bare key column (its index is used).
 */
export function keyRowsSql(side: SideSql, keyColumn: string): string {
  const w = [...side.filters.map((x) => `(${x})`), `${keyColumn} = ANY($1)`];
  return `SELECT ${side.key}::text AS k, hashtextextended(${side.rowText}, 7)::text AS h FROM ${side.from} WHERE ${w.join(' AND ')}`;
}

/** The key splitting a range in two halves (by the source's order). */
export function rangeMedianSql(side: SideSql, r: KeyRange, count: number): string {
  return `SELECT ${side.key}::text AS k FROM ${side.from}${where(side, r, true)} ORDER BY ${side.key} OFFSET ${Math.floor(count / 2)} LIMIT 1`;
}

/** The collation a key column sorts by: its own, or the database default. */
export async function keyCollation(c: { query: (sql: string, params: unknown[]) => Promise<{ rows: { k: string }[] }> }, schema: string, table: string, column: string): Promise<string> {
  const r = await c.query(
    `SELECT CASE WHEN a.attcollation = 0 THEN 'none'
                 WHEN co.collname = 'default' THEN 'db:' || d.datcollate || '/' || d.datctype || '/' || d.datlocprovider::text
                 ELSE co.collprovider::text || ':' || coalesce(co.collcollate, '') || '/' || coalesce(co.colliculocale, '') END AS k
       FROM pg_attribute a JOIN pg_collation co ON co.oid = a.attcollation OR (a.attcollation = 0 AND co.oid = 100)
       JOIN pg_database d ON d.datname = current_database()
      WHERE a.attrelid = ($1::text)::regclass AND a.attname = $2`,
    [qualified(schema, table), column],
  );
  return r.rows[0]?.k ?? 'unknown';
}
