import type { TableInfo } from '../catalog/table-catalog.ts';
import type { ServiceName } from '../services.ts';
import type { CatalogObject } from './catalog-objects.ts';
import type { PlanFile } from './plan-file.ts';
import type { SplitPlan } from './split-plan.ts';
import type { TargetModel } from './target-models.ts';

/** Everything of the source the mapping does not copy as table rows, and what to do about each. */
export interface PlanAccounting {
  readonly notMoved: readonly { readonly kind: CatalogObject['kind']; readonly name: string; readonly action: string }[];
  /** Source foreign keys that cross services after the mapping: the soft references it implies. */
  readonly derivedSoftReferences: readonly string[];
  /** Derived ones the hand-kept list (src/schema/soft-references.ts) lacks: verify would not check them. */
  readonly missingSoftReferences: readonly string[];
  /** Mapped enum columns whose label sets differ (every label compared, used or not). */
  readonly enumDifferences: readonly string[];
  /** Target columns with no source column, and whether the plan file says so (`{"default": true}`). */
  readonly unsourcedColumns: readonly { readonly column: string; readonly explicit: boolean }[];
}

export interface AccountingInputs {
  readonly plan: SplitPlan;
  readonly sourceTables: ReadonlyMap<string, TableInfo>;
  readonly targetTables: ReadonlyMap<ServiceName, ReadonlyMap<string, TableInfo>>;
  readonly objects: readonly CatalogObject[];
  readonly models: readonly TargetModel[];
  readonly planFile: PlanFile;
}

const list = (xs: readonly string[]) => xs.join(', ');

/** Accounts for what `split plan` would otherwise pass over in silence. */
export function accountPlan(inp: AccountingInputs): PlanAccounting {
  const { plan } = inp;
  const bySource = new Map(plan.tables.map((t) => [t.sourceTable, t]));
  const serviceOf = (table: string) => bySource.get(table)?.service;
  const notMoved = inp.objects.map((o) => ({ kind: o.kind, name: o.name, action: actionFor(o, serviceOf) }));

  const derived: string[] = [];
  const missing: string[] = [];
  const listed = new Set(plan.softReferences.map((r) => `${r.from.model}.${r.from.field}`));
  const fieldOf = (table: string, column: string) => bySource.get(table)?.columns.find((c) => c.kind === 'column' && c.source === column)?.field;
  for (const t of plan.tables) {
    for (const fk of inp.sourceTables.get(t.sourceTable)?.foreignKeys ?? []) {
      const r = fk.refSchema === plan.sourceSchema ? bySource.get(fk.refTable) : undefined;
      if (!r || r.service === t.service) continue;
      const from = fk.columns.map((c) => fieldOf(t.sourceTable, c) ?? `(${c})`);
      const to = fk.refColumns.map((c) => fieldOf(r.sourceTable, c) ?? `(${c})`);
      const text = `${t.service}.${t.model}.${list(from)} → ${r.service}.${r.model}.${list(to)} (foreign key ${fk.name})`;
      derived.push(text);
      if (!(from.length === 1 && listed.has(`${t.model}.${from[0]}`))) missing.push(text);
    }
  }

  const enumDifferences: string[] = [];
  for (const t of plan.tables) {
    const src = inp.sourceTables.get(t.sourceTable);
    const tgt = inp.targetTables.get(t.service)?.get(t.targetTable);
    for (const c of t.columns) {
      if (c.kind !== 'column') continue;
      const s = src?.columns.find((x) => x.name === c.source);
      const d = tgt?.columns.find((x) => x.name === c.target);
      if (!s?.enumLabels || !d?.enumLabels) continue;
      const onlySource = s.enumLabels.filter((l) => !d.enumLabels?.includes(l));
      const onlyTarget = d.enumLabels.filter((l) => !s.enumLabels?.includes(l));
      if (onlySource.length === 0 && onlyTarget.length === 0) continue;
      const parts = [
        onlySource.length ? `label${onlySource.length > 1 ? 's' : ''} ${list(onlySource)} of the source type ${s.type} missing in ${d.type}` : '',
        onlyTarget.length ? `label${onlyTarget.length > 1 ? 's' : ''} ${list(onlyTarget)} of ${d.type} not in the source` : '',
      ].filter(Boolean);
      enumDifferences.push(`${t.model}.${c.field}: ${parts.join('; ')}`);
    }
  }

  const unsourcedColumns: { column: string; explicit: boolean }[] = [];
  for (const t of plan.tables) {
    const m = inp.models.find((x) => x.model === t.model);
    for (const col of t.defaulted) {
      const field = m?.fields.find((f) => f.column === col)?.name;
      const rule = field ? inp.planFile.tables?.[t.model]?.columns?.[field] : undefined;
      unsourcedColumns.push({ column: `${t.targetSchema}.${t.targetTable}.${col} (${t.model}.${field ?? col})`, explicit: rule !== undefined && 'default' in rule });
    }
  }
  return { notMoved, derivedSoftReferences: derived, missingSoftReferences: missing, enumDifferences, unsourcedColumns };
}

function actionFor(o: CatalogObject, serviceOf: (t: string) => ServiceName | undefined): string {
  const services = [...new Set(o.tables.map((t) => serviceOf(t.split('.')[0] as string) ?? `${t} (not mapped)`))];
  switch (o.kind) {
    case 'view':
    case 'materialized view':
      if (services.length === 1 && serviceOf(o.tables[0] as string)) return `reads ${list(o.tables)}, all in ${services[0]}: recreate it there with a migration (prisma/${services[0]}/migrations) if the service still needs it`;
      if (services.length === 0) return 'reads no table of the schema: recreate it where it is needed, or drop it';
      return `reads ${list(o.tables)} of ${list(services)}: no single service database holds them after the split; rebuild it in the application or a reporting database`;
    case 'function':
      return 'functions are not copied: if a service calls it, recreate it with a migration of that service (the tables it reads may now be in another database)';
    case 'trigger':
      return `on ${list(o.tables)} (${list(services)}): not copied; recreate it with a migration of that service if it is still needed (Prisma's @updatedAt covers updated-at triggers)`;
    case 'policy':
      return `row-level security policy on ${list(o.tables)} (${list(services)}): not copied; each service connects with its own role (\`vendhub-db roles\`); recreate it with a migration if rows must still be filtered`;
    case 'sequence':
      return 'not owned by any column: if code calls nextval() on it, create it with a migration of that service and setval() it after the copy';
    case 'extension':
      return `columns ${list(o.tables)} use its types: CREATE EXTENSION ${o.name} in each target database whose schema declares them, before \`vendhub-db migrate\` (columns \`split scaffold\` wrote with a base type, like citext as text, need nothing)`;
    case 'index':
      return `on ${list(o.tables)} (${list(services)}): an expression or a predicate, which Prisma cannot declare; not created by the service's migrations: recreate it with a migration of that service (target names) if queries need it: ${o.definition}`;
    case 'check constraint':
      return `on ${list(o.tables)} (${list(services)}): Prisma cannot declare CHECK constraints; not created by the service's migrations: add it with a migration of that service (target names) if it must still hold: ${o.definition}`;
    case 'domain':
      return `columns ${list(o.tables)} use it (${o.definition}): their target columns have the base type (\`split scaffold\` writes them so); add the CHECK with a migration of that service if it must still hold`;
    case 'generated column':
      return `${list(services)}: GENERATED ALWAYS AS (${o.definition}) STORED; Prisma cannot declare it, so the target column is a plain one holding the copied values: make it generated with a migration of that service, or compute it in the service`;
  }
}

/** The accounting as the closing section of `split plan`. */
export function describeAccounting(a: PlanAccounting, strict: boolean): string[] {
  const out: string[] = ['', 'Not moved (the split copies tables; these are listed with what to do):'];
  for (const o of a.notMoved) out.push(`  ${o.kind} ${o.name}: ${o.action}`);
  if (a.notMoved.length === 0) out.push('  nothing: no views, functions, triggers, policies, free sequences, extension or domain types, expression or partial indexes, CHECK constraints or generated columns');
  out.push('', `Foreign keys of the source that cross services after the mapping: ${a.derivedSoftReferences.length}${a.missingSoftReferences.length ? `, ${a.missingSoftReferences.length} missing from src/schema/soft-references.ts (verify would not check them; \`split scaffold\` adds the ones it writes):` : ', all in src/schema/soft-references.ts'}`);
  for (const m of a.missingSoftReferences) out.push(`  missing: ${m}`);
  out.push('', a.enumDifferences.length ? 'Enum labels that differ between source and target (every label compared):' : 'Enum labels: every mapped enum column has the same labels in source and target.');
  for (const e of a.enumDifferences) out.push(`  ${e}`);
  const implicit = a.unsourcedColumns.filter((c) => !c.explicit);
  out.push('', `Target columns with no source column (filled by their default or NULL): ${a.unsourcedColumns.length}${implicit.length ? `, ${implicit.length} not declared in the plan file${strict ? ' (errors with --strict)' : ' (--strict makes them errors; declare each as {"default": true} in the plan file)'}` : ''}`);
  for (const c of a.unsourcedColumns) out.push(`  ${c.column}${c.explicit ? '  (plan file: default)' : ''}`);
  return out;
}
