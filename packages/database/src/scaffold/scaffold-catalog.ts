import type pg from 'pg';

/** An index of a source table over plain columns (no expression, no predicate). */
export interface IndexInfo {
  readonly name: string;
  readonly columns: readonly string[];
  readonly unique: boolean;
  readonly primary: boolean;
}

/** What `split scaffold` needs beyond the split's table catalog (src/catalog/table-catalog.ts). */
export interface ScaffoldTableExtras {
  /** Column → default expression (pg_get_expr), for columns that have one. */
  readonly defaults: ReadonlyMap<string, string>;
  readonly indexes: readonly IndexInfo[];
  /** Indexes left out because they use expressions or a predicate: named with their definition in the output. */
  readonly skippedIndexes: readonly { readonly name: string; readonly definition: string }[];
  /** Generated (stored) column → its expression. */
  readonly generated: ReadonlyMap<string, string>;
  /** CHECK constraints (Prisma cannot declare them): named with their definition in the output. */
  readonly checks: readonly { readonly name: string; readonly definition: string }[];
  /** COMMENT ON TABLE text, if any. */
  readonly comment: string | undefined;
  /** Column → COMMENT ON COLUMN text. */
  readonly columnComments: ReadonlyMap<string, string>;
  /** FK constraint name → its ON DELETE / ON UPDATE action letters (pg_constraint confdeltype/confupdtype). */
  readonly fkActions: ReadonlyMap<string, { readonly onDelete: string; readonly onUpdate: string }>;
}

export interface ScaffoldCatalog {
  readonly tables: ReadonlyMap<string, ScaffoldTableExtras>;
  /** Enum types of the schema: name → labels in sort order. */
  readonly enums: ReadonlyMap<string, readonly string[]>;
  /** Domains of the schema: name → base type (format_type) and CHECK definitions. */
  readonly domains: ReadonlyMap<string, { readonly base: string; readonly checks: readonly string[] }>;
}

/** Reads defaults, generated columns, every index, CHECK constraints, FK actions, comments, enum types and domains of `schema`. */
export async function readScaffoldCatalog(client: pg.ClientBase, schema: string): Promise<ScaffoldCatalog> {
  const defs = await client.query<{ t: string; c: string; expr: string }>(
    `SELECT c.relname AS t, a.attname AS c, pg_get_expr(d.adbin, d.adrelid) AS expr
       FROM pg_attrdef d JOIN pg_class c ON c.oid = d.adrelid JOIN pg_namespace n ON n.oid = c.relnamespace
       JOIN pg_attribute a ON a.attrelid = d.adrelid AND a.attnum = d.adnum
      WHERE n.nspname = $1 AND a.attgenerated = ''`,
    [schema],
  );
  const gen = await client.query<{ t: string; c: string; expr: string }>(
    `SELECT c.relname AS t, a.attname AS c, pg_get_expr(d.adbin, d.adrelid) AS expr
       FROM pg_attrdef d JOIN pg_class c ON c.oid = d.adrelid JOIN pg_namespace n ON n.oid = c.relnamespace
       JOIN pg_attribute a ON a.attrelid = d.adrelid AND a.attnum = d.adnum
      WHERE n.nspname = $1 AND a.attgenerated <> ''`,
    [schema],
  );
  const com = await client.query<{ t: string; c: string | null; text: string }>(
    `SELECT c.relname AS t, a.attname AS c, d.description AS text
       FROM pg_description d JOIN pg_class c ON c.oid = d.objoid AND d.classoid = 'pg_class'::regclass
       JOIN pg_namespace n ON n.oid = c.relnamespace
       LEFT JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum = d.objsubid AND d.objsubid > 0
      WHERE n.nspname = $1 AND c.relkind IN ('r','p')`,
    [schema],
  );
  const dom = await client.query<{ name: string; base: string; checks: string[] | null }>(
    `SELECT t.typname AS name, format_type(t.typbasetype, t.typtypmod) AS base,
            (SELECT array_agg(pg_get_constraintdef(k.oid) ORDER BY k.conname)::text[] FROM pg_constraint k WHERE k.contypid = t.oid) AS checks
       FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace WHERE n.nspname = $1 AND t.typtype = 'd'`,
    [schema],
  );
  const idx = await client.query<{ t: string; name: string; uniq: boolean; prim: boolean; plain: boolean; cols: string[] | null; def: string }>(
    `SELECT c.relname AS t, ic.relname AS name, i.indisunique AS uniq, i.indisprimary AS prim, pg_get_indexdef(i.indexrelid) AS def,
            (i.indexprs IS NULL AND i.indpred IS NULL) AS plain,
            (SELECT array_agg(a.attname ORDER BY x.i)::text[] FROM unnest(i.indkey::int2[]) WITH ORDINALITY x(n, i)
               JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = x.n) AS cols
       FROM pg_index i JOIN pg_class c ON c.oid = i.indrelid JOIN pg_namespace n ON n.oid = c.relnamespace
       JOIN pg_class ic ON ic.oid = i.indexrelid
      WHERE n.nspname = $1 AND c.relkind IN ('r','p') ORDER BY ic.relname`,
    [schema],
  );
  const chk = await client.query<{ t: string; name: string; def: string }>(
    `SELECT c.relname AS t, k.conname AS name, pg_get_constraintdef(k.oid) AS def
       FROM pg_constraint k JOIN pg_class c ON c.oid = k.conrelid JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE n.nspname = $1 AND k.contype = 'c' ORDER BY k.conname`,
    [schema],
  );
  const fks = await client.query<{ t: string; name: string; del: string; upd: string }>(
    `SELECT c.relname AS t, k.conname AS name, k.confdeltype AS del, k.confupdtype AS upd
       FROM pg_constraint k JOIN pg_class c ON c.oid = k.conrelid JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE n.nspname = $1 AND k.contype = 'f'`,
    [schema],
  );
  const en = await client.query<{ name: string; labels: string[] }>(
    `SELECT t.typname AS name, array_agg(e.enumlabel ORDER BY e.enumsortorder)::text[] AS labels
       FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace JOIN pg_enum e ON e.enumtypid = t.oid
      WHERE n.nspname = $1 GROUP BY t.typname`,
    [schema],
  );
  type Mutable = { defaults: Map<string, string>; indexes: IndexInfo[]; skippedIndexes: { name: string; definition: string }[]; fkActions: Map<string, { onDelete: string; onUpdate: string }>; checks: { name: string; definition: string }[]; generated: Map<string, string>; comment: string | undefined; columnComments: Map<string, string> };
  const tables = new Map<string, Mutable>();
  const get = (t: string): Mutable => {
    let x = tables.get(t);
    if (!x) tables.set(t, (x = { defaults: new Map(), indexes: [], skippedIndexes: [], fkActions: new Map(), checks: [], generated: new Map(), comment: undefined, columnComments: new Map() }));
    return x;
  };
  for (const d of defs.rows) get(d.t).defaults.set(d.c, d.expr);
  for (const g of gen.rows) get(g.t).generated.set(g.c, g.expr);
  for (const k of chk.rows) get(k.t).checks.push({ name: k.name, definition: k.def });
  for (const c of com.rows) {
    if (c.c === null) get(c.t).comment = c.text;
    else get(c.t).columnComments.set(c.c, c.text);
  }
  for (const i of idx.rows) {
    if (i.plain && i.cols && i.cols.length > 0) get(i.t).indexes.push({ name: i.name, columns: i.cols, unique: i.uniq, primary: i.prim });
    else get(i.t).skippedIndexes.push({ name: i.name, definition: i.def });
  }
  for (const f of fks.rows) get(f.t).fkActions.set(f.name, { onDelete: f.del, onUpdate: f.upd });
  return {
    tables,
    enums: new Map(en.rows.map((e) => [e.name, e.labels])),
    domains: new Map(dom.rows.map((d) => [d.name, { base: d.base, checks: d.checks ?? [] }])),
  };
}
