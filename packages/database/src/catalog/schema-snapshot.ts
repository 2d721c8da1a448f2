import type pg from 'pg';

/**
 * A schema's shape as a set of comparable facts, one string each, with the schema name removed so
 * the same model in two places compares equal. Used by `drift` and by the split's preflight.
 */
export interface SchemaSnapshot {
  readonly schema: string;
  readonly facts: ReadonlySet<string>;
}

/** Reads tables, columns, constraints, indexes and enums of `schema` (Prisma's history table excluded). */
export async function snapshotSchema(client: pg.ClientBase, schema: string): Promise<SchemaSnapshot> {
  const facts = new Set<string>();
  const strip = (s: string) => s.split(`"${schema}".`).join('').split(`${schema}.`).join('');
  const cols = await client.query<{ t: string; c: string; ty: string; nn: boolean; def: string | null }>(
    `SELECT c.relname AS t, a.attname AS c, format_type(a.atttypid, a.atttypmod) AS ty, a.attnotnull AS nn,
            pg_get_expr(d.adbin, d.adrelid) AS def
       FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
       JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
       LEFT JOIN pg_attrdef d ON d.adrelid = c.oid AND d.adnum = a.attnum
      WHERE n.nspname = $1 AND c.relkind IN ('r','p') AND c.relname <> '_prisma_migrations'`,
    [schema],
  );
  for (const r of cols.rows) {
    facts.add(`table ${r.t}`);
    facts.add(`column ${r.t}.${r.c} ${strip(r.ty)}${r.nn ? ' not null' : ''}${r.def ? ` default ${strip(r.def)}` : ''}`);
  }
  const cons = await client.query<{ t: string; name: string; def: string }>(
    `SELECT c.relname AS t, k.conname AS name, pg_get_constraintdef(k.oid) AS def
       FROM pg_constraint k JOIN pg_class c ON c.oid = k.conrelid JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE n.nspname = $1 AND c.relname <> '_prisma_migrations'`,
    [schema],
  );
  for (const r of cons.rows) facts.add(`constraint ${r.t}.${r.name} ${strip(r.def)}`);
  const idx = await client.query<{ name: string; def: string }>(
    `SELECT indexname AS name, indexdef AS def FROM pg_indexes WHERE schemaname = $1 AND tablename <> '_prisma_migrations'`,
    [schema],
  );
  for (const r of idx.rows) facts.add(`index ${r.name} ${strip(r.def)}`);
  const enums = await client.query<{ name: string; labels: string[] }>(
    `SELECT t.typname AS name, array_agg(e.enumlabel ORDER BY e.enumsortorder)::text[] AS labels
       FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace JOIN pg_enum e ON e.enumtypid = t.oid
      WHERE n.nspname = $1 GROUP BY t.typname`,
    [schema],
  );
  for (const r of enums.rows) facts.add(`enum ${r.name} (${r.labels.join(', ')})`);
  return { schema, facts };
}

export interface SnapshotDiff {
  /** Facts in `actual` that `expected` lacks. */
  readonly extra: readonly string[];
  /** Facts in `expected` that `actual` lacks. */
  readonly missing: readonly string[];
}

export function diffSnapshots(expected: SchemaSnapshot, actual: SchemaSnapshot): SnapshotDiff {
  const extra = [...actual.facts].filter((f) => !expected.facts.has(f)).sort();
  const missing = [...expected.facts].filter((f) => !actual.facts.has(f)).sort();
  return { extra, missing };
}
