import type { ColumnInfo } from '../catalog/table-catalog.ts';
import { prismaString } from './prisma-naming.ts';
import type { PrismaColumnType } from './prisma-column-type.ts';

/**
 * The `@default(...)` for a source column default (pg_get_expr text), or undefined when there is
 * none. What Prisma has a function or literal for is written as such; anything else is kept as
 * `dbgenerated("<expression>")`, so the target column gets the same default. `enumValue` names the
 * Prisma value of an enum label (labels that need `@map`).
 */
export function prismaDefault(expr: string | undefined, col: ColumnInfo, t: PrismaColumnType, enumValue?: (label: string) => string | undefined): string | undefined {
  if (col.identity) return '@default(autoincrement())';
  if (expr === undefined) return undefined;
  const e = expr.trim();
  if (/^nextval\('.*'::regclass\)$/.test(e) && (t.type === 'Int' || t.type === 'BigInt')) return '@default(autoincrement())';
  if (/^(now\(\)|CURRENT_TIMESTAMP)$/i.test(e) && t.type === 'DateTime' && !col.isArray) return '@default(now())';
  if (col.isArray) {
    if (/^'\{\}'::.*\[\]$/.test(e) || /^ARRAY\[\]::.*\[\]$/.test(e)) return '@default([])';
    return dbgenerated(e);
  }
  const lit = e.match(/^'((?:[^']|'')*)'(?:::[\w ."()]+)?$/);
  if (lit) {
    const value = (lit[1] as string).replace(/''/g, "'");
    if (t.enumName !== undefined) {
      const name = enumValue ? enumValue(value) : /^[A-Za-z_][A-Za-z0-9_]*$/.test(value) ? value : undefined;
      return name !== undefined ? `@default(${name})` : dbgenerated(e);
    }
    if (t.type === 'String' || t.type === 'Json') return `@default(${prismaString(value)})`;
    if ((t.type === 'Int' || t.type === 'BigInt' || t.type === 'Float' || t.type === 'Decimal') && /^-?\d+(\.\d+)?$/.test(value)) return `@default(${value})`;
    return dbgenerated(e);
  }
  const num = e.match(/^\(?(-?\d+(?:\.\d+)?)\)?(?:::[\w ]+)?$/);
  if (num && (t.type === 'Int' || t.type === 'BigInt' || t.type === 'Float' || t.type === 'Decimal')) return `@default(${num[1]})`;
  if (/^(true|false)$/.test(e) && t.type === 'Boolean') return `@default(${e})`;
  return dbgenerated(e);
}

const dbgenerated = (e: string): string => `@default(dbgenerated(${prismaString(e)}))`;
