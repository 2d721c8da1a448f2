import type { ColumnInfo } from '../catalog/table-catalog.ts';
import { prismaString } from './prisma-naming.ts';

/** A column's Prisma type: scalar or enum name, optional native-type attribute. */
export interface PrismaColumnType {
  readonly type: string;
  readonly native: string | undefined;
  /** The Prisma enum (source enum type name) this column uses, if any. */
  readonly enumName: string | undefined;
}

const SIMPLE: Record<string, [string, string | undefined]> = {
  text: ['String', undefined],
  integer: ['Int', undefined],
  smallint: ['Int', '@db.SmallInt'],
  bigint: ['BigInt', undefined],
  boolean: ['Boolean', undefined],
  'double precision': ['Float', undefined],
  real: ['Float', '@db.Real'],
  numeric: ['Decimal', '@db.Decimal'],
  'timestamp(3) without time zone': ['DateTime', undefined],
  'timestamp without time zone': ['DateTime', '@db.Timestamp(6)'],
  'timestamp with time zone': ['DateTime', '@db.Timestamptz(6)'],
  date: ['DateTime', '@db.Date'],
  'time without time zone': ['DateTime', '@db.Time(6)'],
  'time with time zone': ['DateTime', '@db.Timetz(6)'],
  jsonb: ['Json', undefined],
  json: ['Json', '@db.Json'],
  uuid: ['String', '@db.Uuid'],
  bytea: ['Bytes', undefined],
  inet: ['String', '@db.Inet'],
  citext: ['String', '@db.Citext'],
  xml: ['String', '@db.Xml'],
  money: ['Decimal', '@db.Money'],
  oid: ['Int', '@db.Oid'],
  'character varying': ['String', '@db.VarChar'],
  character: ['String', '@db.Char(1)'],
  bpchar: ['String', '@db.Char'],
};

const PARAM: [RegExp, string, (m: RegExpMatchArray) => string][] = [
  [/^character varying\((\d+)\)$/, 'String', (m) => `@db.VarChar(${m[1]})`],
  [/^character\((\d+)\)$/, 'String', (m) => `@db.Char(${m[1]})`],
  [/^numeric\((\d+),(\d+)\)$/, 'Decimal', (m) => `@db.Decimal(${m[1]}, ${m[2]})`],
  [/^timestamp\((\d)\) without time zone$/, 'DateTime', (m) => `@db.Timestamp(${m[1]})`],
  [/^timestamp\((\d)\) with time zone$/, 'DateTime', (m) => `@db.Timestamptz(${m[1]})`],
  [/^time\((\d)\) without time zone$/, 'DateTime', (m) => `@db.Time(${m[1]})`],
  [/^time\((\d)\) with time zone$/, 'DateTime', (m) => `@db.Timetz(${m[1]})`],
  [/^bit\((\d+)\)$/, 'String', (m) => `@db.Bit(${m[1]})`],
  [/^bit varying\((\d+)\)$/, 'String', (m) => `@db.VarBit(${m[1]})`],
];

/**
 * Maps a PostgreSQL column (format_type text) to the Prisma type that migrates back to the same
 * column type. Anything Prisma has no scalar for becomes `Unsupported("...")`: it still migrates and
 * copies, but the client does not read it.
 */
export function prismaColumnType(c: ColumnInfo): PrismaColumnType {
  if (c.enumLabels !== undefined) return { type: c.baseType, native: undefined, enumName: c.baseType };
  const t = c.type.replace(/\[\]$/, '');
  const simple = SIMPLE[t];
  if (simple) return { type: simple[0], native: simple[1], enumName: undefined };
  for (const [re, type, native] of PARAM) {
    const m = t.match(re);
    if (m) return { type, native: native(m), enumName: undefined };
  }
  return { type: `Unsupported(${prismaString(c.type.replace(/\[\]$/, ''))})`, native: undefined, enumName: undefined };
}
