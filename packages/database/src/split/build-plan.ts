import { createHash } from 'node:crypto';
import type { TableInfo } from '../catalog/table-catalog.ts';
import { VendhubError } from '../errors/vendhub-error.ts';
import { SOFT_REFERENCES } from '../schema/soft-references.ts';
import type { ServiceName } from '../services.ts';
import { quoteIdent } from '../sql/quote.ts';
import type { PlanFile } from './plan-file.ts';
import type { ColumnMapping, IgnoredColumn, IgnoredTable, SplitPlan, TableMapping } from './split-plan.ts';
import type { TargetModel } from './target-models.ts';
import { checkExpression } from './plan-expression.ts';
import { narrowing } from './type-compat.ts';

/** Tables a Prisma monolith has that are not application data. */
const BUILTIN_IGNORED: Record<string, string> = {
  _prisma_migrations: "the monolith's Prisma migration history; each service keeps its own",
};

const SUPABASE_SCHEMAS = /^(auth|storage|realtime|extensions|graphql|graphql_public|vault|pgsodium|pgsodium_masks|net|cron|pgbouncer|supabase_.*|_realtime|_analytics|pg_.*)$/;

export interface PlanInputs {
  readonly sourceSchema: string;
  readonly sourceTables: ReadonlyMap<string, TableInfo>;
  /** Other schemas of the source with their table counts. */
  readonly otherSchemas: readonly { schema: string; tables: number }[];
  readonly models: readonly TargetModel[];
  /** The live target tables per service, when the targets are reachable and migrated. */
  readonly targetTables: ReadonlyMap<ServiceName, ReadonlyMap<string, TableInfo>>;
  readonly planFile: PlanFile;
}

/**
 * Derives the mapping from the service schemas plus the plan file, and refuses (PLAN_INVALID, all
 * problems at once) when anything in the source would be dropped silently, the plan file names
 * what does not exist, or an expression is not exactly one read-only expression (see
 * checkExpression; call `loadExpressionParser()` once before). Mappings that can lose information
 * are marked (`narrowing`) with the plan file's acceptance, if any.
 */
export function buildPlan(inp: PlanInputs): SplitPlan {
  const problems: string[] = [];
  const pf = inp.planFile;
  const modelNames = new Set(inp.models.map((m) => m.model));
  for (const name of Object.keys(pf.tables ?? {})) {
    if (!modelNames.has(name)) problems.push(`plan file: tables.${name} names no model of any service (models: ${[...modelNames].join(', ')})`);
  }
  const ignoredTables: IgnoredTable[] = [];
  for (const [table, reason] of Object.entries({ ...BUILTIN_IGNORED, ...(pf.ignore?.tables ?? {}) })) {
    if (!inp.sourceTables.has(table)) {
      if (!(table in BUILTIN_IGNORED)) problems.push(`plan file: ignore.tables.${table} names no table of source schema ${inp.sourceSchema}`);
      continue;
    }
    ignoredTables.push({ table, reason });
  }
  const ignoredColumns: IgnoredColumn[] = [];
  for (const [key, reason] of Object.entries(pf.ignore?.columns ?? {})) {
    const [table, column] = key.split('.') as [string, string];
    const t = inp.sourceTables.get(table);
    if (!t) problems.push(`plan file: ignore.columns."${key}": no table ${table} in source schema ${inp.sourceSchema}`);
    else if (!t.columns.some((c) => c.name === column)) problems.push(`plan file: ignore.columns."${key}": table ${table} has no column ${column}`);
    else ignoredColumns.push({ table, column, reason });
  }

  const tables: TableMapping[] = [];
  const mappedSources = new Set<string>();
  for (const m of inp.models) {
    const rule = pf.tables?.[m.model];
    const sourceTable = rule?.source ?? m.source ?? m.model;
    const src = inp.sourceTables.get(sourceTable);
    if (!src) {
      problems.push(`${m.model} (${m.service} → ${m.schema}.${m.table}): source table ${inp.sourceSchema}.${sourceTable} does not exist${rule?.source ? ' (named in the plan file)' : ''}`);
      continue;
    }
    if (ignoredTables.some((t) => t.table === sourceTable)) problems.push(`${sourceTable} is both mapped (to ${m.service}) and ignored in the plan file`);
    mappedSources.add(sourceTable);
    const target = inp.targetTables.get(m.service)?.get(m.table);
    const columns: ColumnMapping[] = [];
    const defaulted: string[] = [];
    const usedSourceCols = new Set<string>();
    const fieldNames = new Set(m.fields.map((f) => f.name));
    const expressionReads = new Set<string>();
    for (const f of Object.keys(rule?.columns ?? {})) {
      if (!fieldNames.has(f)) problems.push(`plan file: tables.${m.model}.columns.${f}: ${m.model} has no field ${f}`);
    }
    for (const f of m.fields) {
      const r = rule?.columns?.[f.name];
      const tcol = target?.columns.find((c) => c.name === f.column);
      if (r && 'default' in r) {
        defaulted.push(f.column);
        continue;
      }
      if (r && 'expression' in r) {
        const checked = checkExpression(r.expression);
        if (!checked.ok) {
          problems.push(`plan file: tables.${m.model}.columns.${f.name}.expression ${checked.reason}`);
          continue;
        }
        for (const c of checked.columns) expressionReads.add(c);
        columns.push({ field: f.name, target: f.column, kind: 'expression', source: r.expression, sourceSql: `(${r.expression})`, sourceType: undefined, targetType: tcol?.type });
        continue;
      }
      const sourceCol = r && 'source' in r ? r.source : (f.source ?? f.name);
      const acceptedLoss = r && 'acceptLoss' in r ? r.acceptLoss : undefined;
      const scol = src.columns.find((c) => c.name === sourceCol);
      if (!scol) {
        if (r) problems.push(`plan file: tables.${m.model}.columns.${f.name}.source: ${sourceTable} has no column ${sourceCol}`);
        else if (target && tcol && (tcol.notNull && !tcol.hasDefault)) {
          problems.push(`${m.service}.${m.table}.${f.column} (${m.model}.${f.name}) is NOT NULL without a default and ${sourceTable} has no column ${sourceCol}: map it in the plan file`);
        } else defaulted.push(f.column);
        continue;
      }
      usedSourceCols.add(sourceCol);
      const lossy = tcol && !scol.isArray && !tcol.isArray ? narrowing(scol, tcol) : undefined;
      if (acceptedLoss !== undefined && tcol && !lossy) problems.push(`plan file: tables.${m.model}.columns.${f.name}.acceptLoss: ${scol.type} → ${tcol?.type ?? 'the target'} loses nothing; remove acceptLoss`);
      columns.push({
        field: f.name, target: f.column, kind: 'column', source: sourceCol, sourceSql: quoteIdent(sourceCol), sourceType: scol.type, targetType: tcol?.type,
        ...(lossy ? { narrowing: lossy } : {}), ...(lossy && acceptedLoss !== undefined ? { acceptedLoss } : {}),
      });
    }
    for (const c of src.columns) {
      if (usedSourceCols.has(c.name)) continue;
      if (ignoredColumns.some((i) => i.table === sourceTable && i.column === c.name)) continue;
      // An expression reads it (a column reference, not a word inside a string): not dropped silently.
      if (expressionReads.has(c.name)) continue;
      problems.push(`column ${inp.sourceSchema}.${sourceTable}.${c.name} is not mapped to any target column and not ignored`);
    }
    const sourceKey = src.primaryKey[0];
    const targetKey = columns.find((c) => c.kind === 'column' && c.source === sourceKey)?.target;
    const dependsOn = (target?.foreignKeys ?? [])
      .filter((fk) => fk.refSchema === m.schema && fk.refTable !== m.table)
      .map((fk) => inp.models.find((x) => x.service === m.service && x.table === fk.refTable)?.model)
      .filter((x): x is string => x !== undefined);
    const binary = columns.every((c) => {
      if (c.kind !== 'column') return false;
      const s = src.columns.find((x) => x.name === c.source);
      const t = target?.columns.find((x) => x.name === c.target);
      if (!s || !t) return false;
      if (s.typeOid === t.typeOid && s.typeOid < 16384) return true;
      // Enum values travel as their label in binary too; arrays carry element OIDs and do not.
      return !s.isArray && !t.isArray && s.enumLabels !== undefined && t.enumLabels !== undefined;
    });
    tables.push({
      model: m.model, service: m.service, targetSchema: m.schema, targetTable: m.table, sourceSchema: inp.sourceSchema, sourceTable,
      columns, defaulted, sourceKey: targetKey ? sourceKey : undefined, targetKey, dependsOn: [...new Set(dependsOn)],
      format: binary ? 'binary' : 'text', estimate: Math.max(0, src.estimate),
    });
  }
  for (const name of inp.sourceTables.keys()) {
    if (!mappedSources.has(name) && !ignoredTables.some((t) => t.table === name)) {
      problems.push(`table ${inp.sourceSchema}.${name} is not mapped to any service and not ignored`);
    }
  }
  if (problems.length > 0) {
    throw new VendhubError('PLAN_INVALID', `the split plan is incomplete (${problems.length} problem${problems.length > 1 ? 's' : ''}):\n  - ${problems.join('\n  - ')}`, {
      details: { problems },
      hint: 'Scaffold what is missing into the service schemas (`vendhub-db split scaffold`: models, enums, fields, migrations), or map or ignore each in a plan file (--plan), with a reason for what is ignored.',
    });
  }
  const outOfScope = inp.otherSchemas.map((s) => ({ ...s, supabase: SUPABASE_SCHEMAS.test(s.schema) }));
  const hash = createHash('sha256')
    .update(JSON.stringify(tables.map((t) => [t.model, t.sourceTable, t.targetSchema, t.targetTable, t.columns.map((c) => [c.target, c.sourceSql]), t.defaulted])))
    .digest('hex')
    .slice(0, 16);
  return { sourceSchema: inp.sourceSchema, tables, ignoredTables, ignoredColumns, outOfScope, softReferences: SOFT_REFERENCES, hash };
}
