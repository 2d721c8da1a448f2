import { VendhubError } from '../errors/vendhub-error.ts';
import { qualified, quoteIdent } from '../sql/quote.ts';
import type { LoadedPlan } from '../split/load-plan.ts';
import type { ColumnMapping, TableMapping } from '../split/split-plan.ts';
import { TableApplier } from './table-applier.ts';

/** One forward mapping turned around: a target table feeds its monolith table (`split follow-back`). */
export interface ReverseTable {
  /** target schema.table → monolith schema.table, each column turned around. */
  readonly mapping: TableMapping;
  /** The monolith table's primary key: changes are applied by it. */
  readonly monolithKey: readonly string[];
}

/**
 * Turns a forward mapping around: the target table is the "source", the monolith table the
 * "target", target column → source column. Target columns the plan defaulted have no monolith
 * column and are left out; monolith columns the plan ignored are not written (an update keeps
 * their value, an insert gets their default).
 */
export function invertMapping(m: TableMapping): TableMapping {
  const columns: ColumnMapping[] = m.columns.filter((c) => c.kind === 'column').map((c) => ({
    field: c.field, target: c.source, kind: 'column', source: c.target, sourceSql: quoteIdent(c.target), sourceType: c.targetType, targetType: c.sourceType,
  }));
  return {
    ...m,
    sourceSchema: m.targetSchema, sourceTable: m.targetTable, targetSchema: m.sourceSchema, targetTable: m.sourceTable,
    columns, defaulted: [], sourceKey: m.targetKey, targetKey: m.sourceKey, dependsOn: [],
  };
}

/**
 * Why changes made in the targets could not be applied to the monolith, one line per problem: a
 * monolith table without primary key, a key column no target key column feeds (a delete in the
 * target names only its key), a NOT NULL column without default the plan ignored (an insert in the
 * target could not fill it).
 */
export function reverseProblems(loaded: LoadedPlan): string[] {
  const problems: string[] = [];
  for (const m of loaded.plan.tables) {
    const q = qualified(m.sourceSchema, m.sourceTable);
    const tq = `${m.targetSchema}.${m.targetTable}`;
    const source = loaded.sourceTables.get(m.sourceTable);
    const targetKey = loaded.targetTables.get(m.service)?.get(m.targetTable)?.primaryKey ?? [];
    if (!source) continue;
    if (source.primaryKey.length === 0) {
      problems.push(`${q} has no primary key: the rollback window applies the targets' changes to it by key. Fix: ALTER TABLE ${q} ADD PRIMARY KEY (...);`);
    }
    const fed = new Map(m.columns.filter((c) => c.kind === 'column').map((c) => [c.source, c.target]));
    for (const k of source.primaryKey) {
      const from = fed.get(k);
      if (from === undefined) problems.push(`${q}.${quoteIdent(k)} (primary key) gets no value from ${tq}: map it in the plan file`);
      else if (!targetKey.includes(from)) problems.push(`${q}.${quoteIdent(k)} (primary key) comes from ${tq}.${from}, which is not in that table's primary key: a delete in the target would not say which monolith row to delete`);
    }
    for (const c of source.columns) {
      if (fed.has(c.name) || !c.notNull || c.hasDefault || c.identity) continue;
      problems.push(`${q}.${quoteIdent(c.name)} is NOT NULL without a default and gets no value from ${tq} (ignored in the plan): a row inserted in the target could not be copied back. Fix: ALTER TABLE ${q} ALTER COLUMN ${quoteIdent(c.name)} SET DEFAULT ...; (or DROP NOT NULL)`);
    }
  }
  return problems;
}

/** Every mapped table turned around; refuses (PREFLIGHT_FAILED) when the monolith cannot take the targets' changes. */
export function reverseTables(loaded: LoadedPlan): ReverseTable[] {
  const problems = reverseProblems(loaded);
  if (problems.length) {
    throw new VendhubError('PREFLIGHT_FAILED', `the targets' changes cannot be applied to the monolith:\n  - ${problems.join('\n  - ')}`, {
      details: { problems }, hint: 'Apply the fixes above to the monolith (or the plan file) before `split cutover --rollback-window`.',
    });
  }
  return loaded.plan.tables.map((m) => ({ mapping: invertMapping(m), monolithKey: loaded.sourceTables.get(m.sourceTable)?.primaryKey ?? [] }));
}

/** The appliers of the tables of some services, keyed by the streamed target "schema.table". */
export function reverseAppliers(tables: readonly ReverseTable[], services: readonly string[], loaded?: LoadedPlan): Map<string, TableApplier> {
  const out = new Map<string, TableApplier>();
  for (const t of tables) {
    if (!services.includes(t.mapping.service)) continue;
    // The streamed (target) table's columns as planned: a Relation message with others is a changed shape.
    const shape = loaded?.targetTables.get(t.mapping.service)?.get(t.mapping.sourceTable)?.columns.map((c) => c.name);
    out.set(`${t.mapping.sourceSchema}.${t.mapping.sourceTable}`, new TableApplier(t.mapping, t.monolithKey, shape));
  }
  return out;
}
