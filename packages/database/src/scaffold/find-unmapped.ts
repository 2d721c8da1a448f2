import type { TableInfo } from '../catalog/table-catalog.ts';
import type { PlanFile } from '../split/plan-file.ts';
import type { TargetModel } from '../split/target-models.ts';

/** What the service schemas and the plan file leave out of the source schema. */
export interface Unmapped {
  /** Source tables no model maps and the plan file does not ignore. */
  readonly tables: readonly string[];
  /** Source columns of mapped tables that no field reads and the plan file does not ignore. */
  readonly columns: readonly { readonly table: string; readonly column: string; readonly model: TargetModel }[];
  /** Source table → the model it maps to (existing models only). */
  readonly modelOf: ReadonlyMap<string, TargetModel>;
}

const BUILTIN_IGNORED = new Set(['_prisma_migrations']);

/**
 * The same coverage `split plan` checks (src/split/build-plan.ts), as data: which tables and
 * columns would be reported as "not mapped to any service / target column and not ignored".
 */
export function findUnmapped(sourceTables: ReadonlyMap<string, TableInfo>, models: readonly TargetModel[], pf: PlanFile): Unmapped {
  const ignoredTables = new Set([...BUILTIN_IGNORED, ...Object.keys(pf.ignore?.tables ?? {})]);
  const ignoredColumns = new Set(Object.keys(pf.ignore?.columns ?? {}));
  const modelOf = new Map<string, TargetModel>();
  for (const m of models) modelOf.set(pf.tables?.[m.model]?.source ?? m.source ?? m.model, m);
  const tables = [...sourceTables.keys()].filter((t) => !modelOf.has(t) && !ignoredTables.has(t)).sort();
  const columns: { table: string; column: string; model: TargetModel }[] = [];
  for (const [table, m] of modelOf) {
    const src = sourceTables.get(table);
    if (!src) continue;
    const rules = pf.tables?.[m.model]?.columns ?? {};
    const used = new Set<string>();
    const expressions: string[] = [];
    for (const f of m.fields) {
      const r = rules[f.name];
      if (r && 'expression' in r) expressions.push(r.expression);
      else if (r && 'source' in r) used.add(r.source);
      else if (!r) used.add(f.source ?? f.name);
    }
    for (const c of src.columns) {
      if (used.has(c.name) || ignoredColumns.has(`${table}.${c.name}`)) continue;
      if (expressions.some((e) => e.includes(c.name))) continue;
      columns.push({ table, column: c.name, model: m });
    }
  }
  return { tables, columns, modelOf };
}
