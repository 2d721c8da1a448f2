import type pg from 'pg';

export interface ColumnInfo {
  readonly name: string;
  /** format_type() output, schema-qualified for non-builtin types, e.g. `"auth_service".user_role[]`. */
  readonly type: string;
  /** Type name without schema or array brackets, e.g. `user_role`, `text`, `timestamp(3) without time zone`. */
  readonly baseType: string;
  readonly typeOid: number;
  readonly isArray: boolean;
  /** Labels when the column (or its array element) is an enum. */
  readonly enumLabels: readonly string[] | undefined;
  readonly notNull: boolean;
  readonly hasDefault: boolean;
  readonly identity: boolean;
  /** Owned sequence (serial/identity), if any. */
  readonly sequence: string | undefined;
}

export interface ForeignKeyInfo {
  readonly name: string;
  readonly columns: readonly string[];
  readonly refSchema: string;
  readonly refTable: string;
  readonly refColumns: readonly string[];
}

export interface TableInfo {
  readonly schema: string;
  readonly name: string;
  readonly columns: readonly ColumnInfo[];
  readonly primaryKey: readonly string[];
  /** Column sets that must be unique: unique constraints and plain unique indexes (not partial, no expressions). */
  readonly uniques: readonly (readonly string[])[];
  readonly foreignKeys: readonly ForeignKeyInfo[];
  readonly rowSecurity: boolean;
  readonly forceRowSecurity: boolean;
  readonly owner: string;
  /** pg_class.reltuples: the planner's row estimate (-1 when never analyzed). */
  readonly estimate: number;
  readonly sizeBytes: number;
}

/** Reads every ordinary or partitioned table of `schema`, with what the split needs to know. */
export async function readTables(client: pg.ClientBase, schema: string): Promise<Map<string, TableInfo>> {
  const t = await client.query<{ oid: number; name: string; rls: boolean; force: boolean; owner: string; est: number; size: string }>(
    `SELECT c.oid, c.relname AS name, c.relrowsecurity AS rls, c.relforcerowsecurity AS force,
            pg_get_userbyid(c.relowner) AS owner, c.reltuples AS est, pg_total_relation_size(c.oid)::text AS size
       FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE n.nspname = $1 AND c.relkind IN ('r','p') AND NOT c.relispartition`,
    [schema],
  );
  const cols = await client.query<{
    rel: number; name: string; type: string; base: string; oid: number; arr: boolean; labels: string[] | null;
    nn: boolean; def: boolean; ident: boolean; seq: string | null;
  }>(
    `SELECT a.attrelid AS rel, a.attname AS name, format_type(a.atttypid, a.atttypmod) AS type,
            coalesce(et.typname, ty.typname) AS base, a.atttypid AS oid, ty.typcategory = 'A' AS arr,
            (SELECT array_agg(e.enumlabel ORDER BY e.enumsortorder)::text[] FROM pg_enum e
              WHERE e.enumtypid = coalesce(et.oid, ty.oid)) AS labels,
            a.attnotnull AS nn, a.atthasdef AS def, a.attidentity <> '' AS ident,
            pg_get_serial_sequence(quote_ident(n.nspname) || '.' || quote_ident(c.relname), a.attname) AS seq
       FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace
       JOIN pg_type ty ON ty.oid = a.atttypid LEFT JOIN pg_type et ON et.oid = ty.typelem AND ty.typcategory = 'A'
      WHERE n.nspname = $1 AND c.relkind IN ('r','p') AND a.attnum > 0 AND NOT a.attisdropped
      ORDER BY a.attrelid, a.attnum`,
    [schema],
  );
  const cons = await client.query<{ rel: number; name: string; kind: string; cols: string[]; rs: string | null; rt: string | null; rcols: string[] | null }>(
    `SELECT k.conrelid AS rel, k.conname AS name, k.contype AS kind,
            (SELECT array_agg(a.attname ORDER BY x.i)::text[] FROM unnest(k.conkey) WITH ORDINALITY x(n, i)
               JOIN pg_attribute a ON a.attrelid = k.conrelid AND a.attnum = x.n) AS cols,
            rn.nspname AS rs, rc.relname AS rt,
            (SELECT array_agg(a.attname ORDER BY x.i)::text[] FROM unnest(k.confkey) WITH ORDINALITY x(n, i)
               JOIN pg_attribute a ON a.attrelid = k.confrelid AND a.attnum = x.n) AS rcols
       FROM pg_constraint k JOIN pg_class c ON c.oid = k.conrelid JOIN pg_namespace n ON n.oid = c.relnamespace
       LEFT JOIN pg_class rc ON rc.oid = k.confrelid LEFT JOIN pg_namespace rn ON rn.oid = rc.relnamespace
      WHERE n.nspname = $1 AND k.contype IN ('p','u','f') AND k.convalidated`,
    [schema],
  );
  const idx = await client.query<{ rel: number; cols: string[] }>(
    `SELECT i.indrelid AS rel,
            (SELECT array_agg(a.attname ORDER BY x.i)::text[] FROM unnest(i.indkey::int2[]) WITH ORDINALITY x(n, i)
               JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = x.n) AS cols
       FROM pg_index i JOIN pg_class c ON c.oid = i.indrelid JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE n.nspname = $1 AND i.indisunique AND NOT i.indisprimary AND i.indpred IS NULL AND i.indexprs IS NULL AND i.indisvalid`,
    [schema],
  );
  const out = new Map<string, TableInfo>();
  for (const r of t.rows) {
    const columns = cols.rows.filter((c) => c.rel === r.oid).map<ColumnInfo>((c) => ({
      name: c.name, type: c.type, baseType: c.base, typeOid: c.oid, isArray: c.arr, enumLabels: c.labels ?? undefined,
      notNull: c.nn, hasDefault: c.def, identity: c.ident, sequence: c.seq ?? undefined,
    }));
    const mine = cons.rows.filter((k) => k.rel === r.oid);
    const uniques = [...mine.filter((k) => k.kind === 'u').map((k) => k.cols), ...idx.rows.filter((i) => i.rel === r.oid).map((i) => i.cols)];
    const dedup = [...new Map(uniques.map((u) => [u.join('\u0000'), u])).values()];
    out.set(r.name, {
      schema,
      name: r.name,
      columns,
      primaryKey: mine.find((k) => k.kind === 'p')?.cols ?? [],
      uniques: dedup,
      foreignKeys: mine.filter((k) => k.kind === 'f').map((k) => ({
        name: k.name, columns: k.cols, refSchema: k.rs ?? schema, refTable: k.rt ?? '', refColumns: k.rcols ?? [],
      })),
      rowSecurity: r.rls,
      forceRowSecurity: r.force,
      owner: r.owner,
      estimate: Number(r.est),
      sizeBytes: Number(r.size),
    });
  }
  return out;
}
