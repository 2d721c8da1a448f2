import type { ColumnInfo, TableInfo } from '../catalog/table-catalog.ts';
import { qualified, quoteIdent, quoteLiteral } from '../sql/quote.ts';
import type { TableMapping } from './split-plan.ts';

/**
 * Session settings that make a value's text form the same on every server, so a row hashed in the
 * source and the same row hashed in a target give the same number.
 */
export const CANONICAL_SESSION = "SET extra_float_digits = 1; SET datestyle = 'ISO, MDY'; SET timezone = 'UTC'; SET intervalstyle = 'postgres'; SET bytea_output = 'hex'";

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
 * How one table is read for hashing on each side: the source through the mapping (expressions
 * evaluated, values cast to the target type so their text matches), the target as stored.
 */
export function hashSides(t: TableMapping, target: TableInfo, filters: readonly string[], sameOrdering: boolean): { source: SideSql; target: SideSql } {
  const tcol = (name: string) => target.columns.find((c) => c.name === name) as ColumnInfo;
  // When the two keys sort alike, ranges use their indexes; otherwise both sides compare bytes
  // (COLLATE "C"), slower but the only way two differently collated databases agree on a range.
  const textKey = t.targetKey !== undefined && ['text', 'varchar', 'bpchar'].includes(tcol(t.targetKey).baseType);
  const collate = textKey && !sameOrdering ? ' COLLATE "C"' : '';
  const srcParts: string[] = [];
  const tgtParts: string[] = [];
  for (const c of t.columns) {
    const info = tcol(c.target);
    const srcExpr = c.kind === 'column' ? `s.${c.sourceSql}` : c.sourceSql;
    // The source value is first cast to the target's type, so both sides hash the same value.
    const srcValue = info.enumLabels ? `(${srcExpr})` : `((${srcExpr})::${info.type})`;
    srcParts.push(columnHash(srcValue, info));
    tgtParts.push(columnHash(`t.${quoteIdent(c.target)}`, info));
  }
  return {
    source: { from: `${qualified(t.sourceSchema, t.sourceTable)} s`, key: `(s.${quoteIdent(t.sourceKey ?? 'ctid')}${collate})`, rowText: combine(srcParts), filters },
    target: { from: `${qualified(t.targetSchema, t.targetTable)} t`, key: `(t.${quoteIdent(t.targetKey ?? 'ctid')}${collate})`, rowText: combine(tgtParts), filters: [] },
  };
}

function where(side: SideSql, r: KeyRange, hasKey: boolean): string {
  const w = [...side.filters];
  if (hasKey && r.lo !== null) w.push(`${side.key} > ${quoteLiteral(r.lo)}`);
  if (hasKey && r.hi !== null) w.push(`${side.key} <= ${quoteLiteral(r.hi)}`);
  return w.length ? ` WHERE ${w.map((x) => `(${x})`).join(' AND ')}` : '';
}

/**
 * PostgreSQL's own 64-bit hash functions for the common types: stable across servers (hash
 * partitioning relies on that) and much cheaper than text output for jsonb. Enums hash their label
 * (their own hash uses the type's OID, which differs between databases); other types their text.
 */
const TYPE_HASH: Record<string, string> = {
  int2: 'hashint2extended', int4: 'hashint4extended', int8: 'hashint8extended',
  float4: 'hashfloat4extended', float8: 'hashfloat8extended', numeric: 'hash_numeric_extended',
  text: 'hashtextextended', varchar: 'hashtextextended', timestamp: 'timestamp_hash_extended',
  jsonb: 'jsonb_hash_extended', uuid: 'uuid_hash_extended',
};

function columnHash(value: string, info: ColumnInfo): string {
  let h: string;
  if (info.enumLabels) h = `hashtextextended(${value}::text, 0)`;
  else if (info.isArray && TYPE_HASH[info.baseType]) h = `hash_array_extended(${value}, 0)`;
  else if (!info.isArray && TYPE_HASH[info.baseType]) h = `${TYPE_HASH[info.baseType]}(${value}, 0)`;
  else h = `hashtextextended(${value}::text, 0)`;
  return `coalesce(${h}::text, 'n')`;
}

/** One text per row from its column hashes (NULL spelled 'n'), hashed again below. */
function combine(parts: readonly string[]): string {
  return `concat_ws(',', ${parts.join(', ')})`;
}

/** count and an order-independent 64-bit-per-row hash sum of a key range. */
export function rangeSummarySql(side: SideSql, r: KeyRange, hasKey: boolean): string {
  return `SELECT count(*)::text AS n, coalesce(sum(hashtextextended(${side.rowText}, 7)::numeric), 0)::text AS h FROM ${side.from}${where(side, r, hasKey)}`;
}

/** Every row's key and hash in a (small) range, for pinpointing differences. */
export function rangeRowsSql(side: SideSql, r: KeyRange, hasKey: boolean): string {
  return `SELECT ${side.key}::text AS k, hashtextextended(${side.rowText}, 7)::text AS h FROM ${side.from}${where(side, r, hasKey)}`;
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
