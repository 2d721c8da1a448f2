import type pg from 'pg';

/** A source object that is not a table: the split does not copy it, and says so. */
export interface CatalogObject {
  readonly kind: 'view' | 'materialized view' | 'function' | 'trigger' | 'policy' | 'sequence' | 'extension';
  readonly name: string;
  /** Source tables it reads or is attached to (views, triggers, policies), or whose columns use it (extensions). */
  readonly tables: readonly string[];
}

/**
 * Views, materialized views, functions, triggers, RLS policies and sequences not owned by a column
 * in `schema`, and the extensions whose types its tables use. Objects that belong to an extension
 * are left out (the extension stands for them).
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
  return out;
}
