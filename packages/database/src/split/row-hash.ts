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
export function hashSides(t: TableMapping, target: TableInfo, filters: readonly string[]): { source: SideSql; target: SideSql } {
  const tcol = (name: string) => target.columns.find((c) => c.name === name) as ColumnInfo;
  // Ranges are compared byte-wise on both sides: two databases may sort text differently.
  const textKey = t.targetKey !== undefined && ['text', 'varchar', 'bpchar'].includes(tcol(t.targetKey).baseType);
  const collate = textKey ? ' COLLATE "C"' : '';
  const srcParts: string[] = [];
  const tgtParts: string[] = [];
  for (const c of t.columns) {
    const info = tcol(c.target);
    const srcExpr = c.kind === 'column' ? `s.${c.sourceSql}` : c.sourceSql;
    if (info.enumLabels) {
      srcParts.push(`(${srcExpr})::text`);
      tgtParts.push(`t.${quoteIdent(c.target)}::text`);
    } else {
      srcParts.push(`((${srcExpr})::${info.type})::text`);
      tgtParts.push(`t.${quoteIdent(c.target)}::text`);
    }
  }
  return {
    source: { from: `${qualified(t.sourceSchema, t.sourceTable)} s`, key: `(s.${quoteIdent(t.sourceKey ?? 'ctid')}${collate})`, rowText: `ROW(${srcParts.join(', ')})::text`, filters },
    target: { from: `${qualified(t.targetSchema, t.targetTable)} t`, key: `(t.${quoteIdent(t.targetKey ?? 'ctid')}${collate})`, rowText: `ROW(${tgtParts.join(', ')})::text`, filters: [] },
  };
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

/** The key splitting a range in two halves (by the source's order). */
export function rangeMedianSql(side: SideSql, r: KeyRange, count: number): string {
  return `SELECT ${side.key}::text AS k FROM ${side.from}${where(side, r, true)} ORDER BY ${side.key} OFFSET ${Math.floor(count / 2)} LIMIT 1`;
}
