import type pg from 'pg';

/** A source object that is not a table: the split does not copy it, and says so. */
export interface CatalogObject {
  readonly kind: 'view' | 'materialized view' | 'function' | 'trigger' | 'policy' | 'sequence' | 'extension' | 'index' | 'check constraint' | 'domain' | 'generated column';
  readonly name: string;
  /** SQL that recreates it on the source (index, check, domain check, generation expression). */
  readonly definition?: string;
  /** Source tables it reads or is attached to (views, triggers, policies), or whose columns use it (extensions). */
  readonly tables: readonly string[];
}

/**
 * Views, materialized views, functions, triggers, RLS policies and sequences not owned by a column
 * in `schema`, the extensions and domains whose types its tables use, and what Prisma cannot declare
 * on its tables: indexes with an expression or a predicate, CHECK constraints, generated columns.
 * Objects that belong to an extension are left out (the extension stands for them).
 */
export async function readCatalogObjects(client: pg.ClientBase, schema: string): Promise<CatalogObject[]> {
  const out: CatalogObject[] = [];
  const views = await client.query<{ name: string; kind: string; tables: string[] | null }>(
    `SELECT v.relname AS name, v.relkind AS kind,
            (SELECT array_agg(DISTINCT t.relname ORDER BY t.relname)::text[] FROM pg_rewrite r JOIN pg_depend d ON d.objid = r.oid AND d.classid = 'pg_rewrite'::regclass
               JOIN pg_class t ON t.oid = d.refobjid AND t.relkind IN ('r','p') AND t.oid <> v.oid WHERE r.ev_class = v.oid) AS tables
       FROM pg_class v JOIN pg_namespace n ON n.oid = v.relnamespace
      WHERE n.nspname = $1 AND v.relkind IN ('v','m') ORDER BY v.relname`,
    [schema],
  );
  for (const v of views.rows) out.push({ kind: v.kind === 'm' ? 'materialized view' : 'view', name: v.name, tables: v.tables ?? [] });
  const fns = await client.query<{ name: string }>(
    `SELECT p.proname || '(' || pg_get_function_identity_arguments(p.oid) || ')' AS name
       FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
      WHERE n.nspname = $1 AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.objid = p.oid AND d.deptype = 'e') ORDER BY 1`,
    [schema],
  );
  for (const f of fns.rows) out.push({ kind: 'function', name: f.name, tables: [] });
  const trg = await client.query<{ name: string; t: string }>(
    `SELECT tg.tgname AS name, c.relname AS t FROM pg_trigger tg JOIN pg_class c ON c.oid = tg.tgrelid JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE n.nspname = $1 AND NOT tg.tgisinternal ORDER BY 2, 1`,
    [schema],
  );
  for (const t of trg.rows) out.push({ kind: 'trigger', name: t.name, tables: [t.t] });
  const pol = await client.query<{ name: string; t: string }>(
    `SELECT p.polname AS name, c.relname AS t FROM pg_policy p JOIN pg_class c ON c.oid = p.polrelid JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE n.nspname = $1 ORDER BY 2, 1`,
    [schema],
  );
  for (const p of pol.rows) out.push({ kind: 'policy', name: p.name, tables: [p.t] });
  const seq = await client.query<{ name: string }>(
    `SELECT s.relname AS name FROM pg_class s JOIN pg_namespace n ON n.oid = s.relnamespace
      WHERE n.nspname = $1 AND s.relkind = 'S'
        AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.objid = s.oid AND d.classid = 'pg_class'::regclass AND d.deptype IN ('a','i','e'))
      ORDER BY 1`,
    [schema],
  );
  for (const s of seq.rows) out.push({ kind: 'sequence', name: s.name, tables: [] });
  const ext = await client.query<{ name: string; tables: string[] }>(
    `SELECT e.extname AS name, array_agg(DISTINCT c.relname || '.' || a.attname ORDER BY c.relname || '.' || a.attname)::text[] AS tables
       FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace
       JOIN pg_type ty ON ty.oid = a.atttypid LEFT JOIN pg_type et ON et.oid = ty.typelem AND ty.typcategory = 'A'
       JOIN pg_depend d ON d.objid = coalesce(et.oid, ty.oid) AND d.classid = 'pg_type'::regclass AND d.deptype = 'e'
       JOIN pg_extension e ON e.oid = d.refobjid
      WHERE n.nspname = $1 AND c.relkind IN ('r','p') AND a.attnum > 0 AND NOT a.attisdropped
      GROUP BY e.extname ORDER BY 1`,
    [schema],
  );
  for (const e of ext.rows) out.push({ kind: 'extension', name: e.name, tables: e.tables });
  const idx = await client.query<{ name: string; t: string; def: string }>(
    `SELECT ic.relname AS name, c.relname AS t, pg_get_indexdef(i.indexrelid) AS def
       FROM pg_index i JOIN pg_class c ON c.oid = i.indrelid JOIN pg_namespace n ON n.oid = c.relnamespace JOIN pg_class ic ON ic.oid = i.indexrelid
      WHERE n.nspname = $1 AND c.relkind IN ('r','p') AND (i.indexprs IS NOT NULL OR i.indpred IS NOT NULL) ORDER BY 2, 1`,
    [schema],
  );
  for (const i of idx.rows) out.push({ kind: 'index', name: i.name, tables: [i.t], definition: i.def });
  const chk = await client.query<{ name: string; t: string; def: string }>(
    `SELECT k.conname AS name, c.relname AS t, pg_get_constraintdef(k.oid) AS def
       FROM pg_constraint k JOIN pg_class c ON c.oid = k.conrelid JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE n.nspname = $1 AND c.relkind IN ('r','p') AND k.contype = 'c' ORDER BY 2, 1`,
    [schema],
  );
  for (const k of chk.rows) out.push({ kind: 'check constraint', name: k.name, tables: [k.t], definition: k.def });
  const dom = await client.query<{ name: string; def: string; tables: string[] }>(
    `SELECT ty.typname AS name, format_type(ty.typbasetype, ty.typtypmod) || coalesce(' ' || (SELECT string_agg(pg_get_constraintdef(k.oid), ' ' ORDER BY k.conname) FROM pg_constraint k WHERE k.contypid = ty.oid), '') AS def,
            array_agg(DISTINCT c.relname || '.' || a.attname ORDER BY c.relname || '.' || a.attname)::text[] AS tables
       FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace
       JOIN pg_type ty ON ty.oid = a.atttypid AND ty.typtype = 'd'
      WHERE n.nspname = $1 AND c.relkind IN ('r','p') AND a.attnum > 0 AND NOT a.attisdropped
      GROUP BY ty.oid, ty.typname ORDER BY 1`,
    [schema],
  );
  for (const d of dom.rows) out.push({ kind: 'domain', name: d.name, tables: d.tables, definition: d.def });
  const gen = await client.query<{ name: string; t: string; def: string }>(
    `SELECT c.relname || '.' || a.attname AS name, c.relname AS t, pg_get_expr(d.adbin, d.adrelid) AS def
       FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace
       JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
      WHERE n.nspname = $1 AND c.relkind IN ('r','p') AND a.attgenerated <> '' ORDER BY 1`,
    [schema],
  );
  for (const g of gen.rows) out.push({ kind: 'generated column', name: g.name, tables: [g.t], definition: g.def });
  return out;
}
