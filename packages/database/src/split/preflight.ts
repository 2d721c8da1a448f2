import type pg from 'pg';
import type { ColumnInfo, TableInfo } from '../catalog/table-catalog.ts';
import { wrapPgError } from '../errors/pg-errors.ts';
import { VendhubError, type ErrorCode } from '../errors/vendhub-error.ts';
import { compareHistory, readHistory } from '../migrate/migration-status.ts';
import type { ServiceConfig } from '../config/database-config.ts';
import { qualified, quoteIdent, quoteLiteral } from '../sql/quote.ts';
import type { LoadedPlan } from './load-plan.ts';
import { withDatabase, withTransaction } from '../db/with-database.ts';
import type { SplitContext } from './split-context.ts';
import type { TableMapping } from './split-plan.ts';
import { compatible } from './type-compat.ts';

export type ProblemKind =
  | 'same-database' | 'privilege' | 'row-level-security' | 'not-migrated' | 'not-empty'
  | 'type' | 'expression' | 'narrowing' | 'enum-label' | 'not-null' | 'unique' | 'orphan';

/** Data problems can be waived with --skip-invalid-rows; structural ones cannot. */
const DATA_KINDS = new Set<ProblemKind>(['enum-label', 'not-null', 'unique', 'orphan']);

export interface PreflightProblem {
  readonly kind: ProblemKind;
  readonly table: string;
  readonly column?: string;
  readonly message: string;
  readonly count?: number;
  readonly sampleKeys?: readonly string[];
}

export interface PreflightResult {
  readonly problems: readonly PreflightProblem[];
  /** Per model: SQL conditions over the source row that exclude rows violating a target constraint. */
  readonly rowFilters: ReadonlyMap<string, readonly string[]>;
  readonly skipped: readonly PreflightProblem[];
}

export interface PreflightOptions {
  readonly resume: boolean;
  readonly skipInvalidRows: boolean;
  readonly sampleSize?: number;
}

/**
 * Everything that can be known before the first write: the databases are distinct and reachable,
 * privileges suffice, row-level security hides nothing, targets are migrated and empty, every
 * mapped column casts, and no source row would break a target constraint (NOT NULL, unique, enum,
 * a foreign key inside a service). Throws once with every problem; data problems may be turned
 * into row filters by `skipInvalidRows`.
 */
export async function preflight(ctx: SplitContext, loaded: LoadedPlan, opts: PreflightOptions): Promise<PreflightResult> {
  const problems: PreflightProblem[] = [];
  const rowFilters = new Map<string, string[]>();
  const n = opts.sampleSize ?? 5;
  try {
    // Everything preflight sends to the source, plan-file expressions included, runs in one
    // read-only transaction: a write anywhere in it is an error, never a change.
    await withTransaction(ctx.source, async (src) => {
      await checkDistinctDatabases(ctx, src, problems);
      await checkSourceAccess(src, loaded, problems);
      for (const t of loaded.plan.tables) {
        const sTable = loaded.sourceTables.get(t.sourceTable) as TableInfo;
        const tTable = loaded.targetTables.get(t.service)?.get(t.targetTable);
        if (!tTable) continue; // reported as not-migrated below
        const filters = await checkTableData(src, t, sTable, tTable, loaded, problems, n);
        if (filters.length) rowFilters.set(t.model, filters);
      }
    }, { isolation: 'repeatable read', readOnly: true, secrets: ctx.secrets, local: { timezone: 'UTC', datestyle: 'ISO, MDY', intervalstyle: 'postgres', extra_float_digits: '1' } });
  } catch (e) {
    throw sourceCheckError(e, ctx, loaded);
  }
  for (const target of ctx.targets) {
    await withDatabase(ctx, target, (c) => checkTarget(c, target.services.map((sv) => ctx.serviceConfigs[sv]), loaded, opts, problems));
  }
  const blocking = problems.filter((p) => !(opts.skipInvalidRows && DATA_KINDS.has(p.kind)));
  if (blocking.length > 0) {
    const code: ErrorCode = blocking.every((p) => p.kind === 'not-empty') ? 'TARGET_NOT_EMPTY' : 'PREFLIGHT_FAILED';
    const hint = blocking.some((p) => DATA_KINDS.has(p.kind))
      ? 'Fix the rows in the source, map them with a plan-file expression, or pass --skip-invalid-rows to leave them out (they are listed in the report).'
      : blocking.some((p) => p.kind === 'not-empty') ? 'Use empty targets, or --resume to continue an interrupted run.' : undefined;
    throw new VendhubError(code, `preflight refused the split (${blocking.length} problem${blocking.length > 1 ? 's' : ''}); nothing was written:\n  - ${blocking.map(formatProblem).join('\n  - ')}`, {
      details: { problems: blocking }, ...(hint ? { hint } : {}),
    });
  }
  const skipped = problems.filter((p) => DATA_KINDS.has(p.kind));
  return { problems, rowFilters: opts.skipInvalidRows ? rowFilters : new Map(), skipped };
}

export function formatProblem(p: PreflightProblem): string {
  const where = p.column ? `${p.table}.${p.column}` : p.table;
  const tail = p.count !== undefined ? ` (${p.count} row${p.count === 1 ? '' : 's'}${p.sampleKeys?.length ? `, e.g. id ${p.sampleKeys.join(', ')}` : ''})` : '';
  return `[${p.kind}] ${where}: ${p.message}${tail}`;
}

async function checkDistinctDatabases(ctx: SplitContext, src: pg.PoolClient, problems: PreflightProblem[]) {
  const ident = async (c: pg.ClientBase) => {
    const db = (await c.query<{ db: string }>('SELECT current_database() AS db')).rows[0]?.db;
    // pg_control_system may be restricted: fall back to the URL key (asked first, so that no error
    // aborts the source's read-only transaction).
    const allowed = (await c.query<{ ok: boolean }>(`SELECT has_function_privilege('pg_control_system()', 'EXECUTE') AS ok`)).rows[0]?.ok;
    const sys = allowed ? String((await c.query<{ s: string }>('SELECT system_identifier::text AS s FROM pg_control_system()')).rows[0]?.s) : 'unknown';
    return { db, sys };
  };
  const s = await ident(src);
  for (const t of ctx.targets) {
    const ti = await withDatabase(ctx, t, ident);
    const same = s.sys !== 'unknown' && ti.sys !== 'unknown' ? s.sys === ti.sys && s.db === ti.db : t.key === ctx.source.connection.databaseKey;
    if (same) problems.push({ kind: 'same-database', table: t.key, message: `the source and the target for ${t.services.join(', ')} are the same database; the split copies into a different database` });
  }
}

async function checkSourceAccess(src: pg.PoolClient, loaded: LoadedPlan, problems: PreflightProblem[]) {
  const role = (await src.query<{ u: string; sup: boolean; bypass: boolean }>(
    'SELECT current_user AS u, rolsuper AS sup, rolbypassrls AS bypass FROM pg_roles WHERE rolname = current_user',
  )).rows[0] as { u: string; sup: boolean; bypass: boolean };
  for (const t of loaded.plan.tables) {
    const name = qualified(t.sourceSchema, t.sourceTable);
    const ok = (await src.query<{ ok: boolean }>(`SELECT has_table_privilege($1, 'SELECT') AS ok`, [name])).rows[0]?.ok;
    if (!ok) problems.push({ kind: 'privilege', table: `${t.sourceSchema}.${t.sourceTable}`, message: `role ${role.u} may not SELECT from the source table` });
    const info = loaded.sourceTables.get(t.sourceTable) as TableInfo;
    const bypasses = role.sup || role.bypass || (info.owner === role.u && !info.forceRowSecurity);
    if (info.rowSecurity && !bypasses) {
      problems.push({
        kind: 'row-level-security', table: `${t.sourceSchema}.${t.sourceTable}`,
        message: `row-level security is enabled and role ${role.u} does not bypass it, so rows could be hidden; read as a role with BYPASSRLS (e.g. Supabase's postgres or service_role) or as the table owner`,
      });
    }
  }
}

async function checkTarget(c: pg.PoolClient, services: readonly ServiceConfig[], loaded: LoadedPlan, opts: PreflightOptions, problems: PreflightProblem[]) {
  const canCreate = (await c.query<{ ok: boolean }>(
    `SELECT has_database_privilege(current_database(), 'CREATE') OR EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = '_vendhub_split' AND has_schema_privilege(oid, 'CREATE,USAGE')) AS ok`,
  )).rows[0]?.ok;
  if (!canCreate) problems.push({ kind: 'privilege', table: `${services.map((x) => x.service.name).join(', ')} target database`, message: 'the role may not create the _vendhub_split schema that holds checkpoints' });
  for (const cfg of services) {
    const info = cfg.service;
    const s = info.name;
    const status = compareHistory(cfg, await readHistory(c, info.schema));
    if (!status.current) {
      problems.push({ kind: 'not-migrated', table: info.schema, message: `service ${s} is not migrated to its latest migration (pending: ${status.pending.join(', ') || '-'}, failed: ${status.failed.join(', ') || '-'}); run \`vendhub-db migrate ${s}\`` });
      continue;
    }
    for (const t of loaded.plan.tables.filter((x) => x.service === s)) {
      const name = qualified(t.targetSchema, t.targetTable);
      const ok = (await c.query<{ ok: boolean }>(`SELECT has_table_privilege($1, 'INSERT') AS ok`, [name])).rows[0]?.ok;
      if (!ok) problems.push({ kind: 'privilege', table: `${t.targetSchema}.${t.targetTable}`, message: 'the target role may not INSERT into it' });
      if (!opts.resume && (await c.query(`SELECT 1 FROM ${name} LIMIT 1`)).rowCount) {
        problems.push({ kind: 'not-empty', table: `${t.targetSchema}.${t.targetTable}`, message: 'the target table already has rows (the split fills empty targets; use --resume to continue an interrupted run)' });
      }
    }
  }
}

/** Type, enum, NOT NULL, unique and in-service foreign-key checks for one table; returns row filters. */
async function checkTableData(
  src: pg.PoolClient, t: TableMapping, sTable: TableInfo, tTable: TableInfo, loaded: LoadedPlan, problems: PreflightProblem[], n: number,
): Promise<string[]> {
  const from = qualified(t.sourceSchema, t.sourceTable);
  const label = `${t.sourceTable} → ${t.targetSchema}.${t.targetTable}`;
  const key = t.sourceKey ? quoteIdent(t.sourceKey) : 'ctid';
  const filters: string[] = [];
  const sample = async (where: string, extraFrom = ''): Promise<{ count: number; keys: string[] }> => {
    const r = await src.query<{ n: string; keys: string[] | null }>(
      `SELECT count(*)::text AS n, (array_agg(${key}::text ORDER BY ${key}))[1:${n}] AS keys FROM ${from} s${extraFrom} WHERE ${where}`,
    );
    return { count: Number(r.rows[0]?.n ?? 0), keys: r.rows[0]?.keys ?? [] };
  };
  const colOf = (target: string) => t.columns.find((c) => c.target === target);
  for (const cm of t.columns) {
    const tcol = tTable.columns.find((c) => c.name === cm.target) as ColumnInfo;
    if (!tcol) continue;
    let scol: Pick<ColumnInfo, 'baseType' | 'isArray' | 'enumLabels' | 'type'> | undefined = sTable.columns.find((c) => c.name === cm.source);
    if (cm.kind === 'expression') {
      await src.query('SAVEPOINT expression_probe');
      try {
        const r = await src.query(`SELECT ${cm.sourceSql} AS v FROM ${from} LIMIT 0`);
        const oid = r.fields[0]?.dataTypeID;
        const ty = (await src.query<{ base: string; arr: boolean; type: string; labels: string[] | null }>(
          `SELECT coalesce(et.typname, t.typname) AS base, t.typcategory = 'A' AS arr, format_type(t.oid, NULL) AS type,
                  (SELECT array_agg(enumlabel ORDER BY enumsortorder)::text[] FROM pg_enum WHERE enumtypid = coalesce(et.oid, t.oid)) AS labels
             FROM pg_type t LEFT JOIN pg_type et ON et.oid = t.typelem AND t.typcategory = 'A' WHERE t.oid = $1`, [oid],
        )).rows[0];
        scol = ty ? { baseType: ty.base, isArray: ty.arr, type: ty.type, enumLabels: ty.labels ?? undefined } : undefined;
        // Evaluated on a few rows too, so an expression that fails at run time (a write refused
        // by the read-only transaction, a bad cast) is a preflight problem, not a failed copy.
        await src.query(`SELECT (${cm.sourceSql})::text IS NULL AS v FROM ${from} s LIMIT 100`);
        await src.query('RELEASE SAVEPOINT expression_probe');
      } catch (e) {
        await src.query('ROLLBACK TO SAVEPOINT expression_probe');
        problems.push({ kind: 'expression', table: label, column: cm.target, message: `the plan-file expression ${cm.source} fails in the source: ${(e as Error).message}` });
        continue;
      }
    }
    const sColumn = cm.kind === 'column' ? sTable.columns.find((c) => c.name === cm.source) : undefined;
    if (cm.narrowing && cm.acceptedLoss === undefined && sColumn) {
      const p = await lossyRows(src, cm.sourceSql, sColumn.type, tcol.type, sample);
      if (p.count !== 0) {
        problems.push({
          kind: 'narrowing', table: label, column: cm.target, count: p.count >= 0 ? p.count : undefined, sampleKeys: p.keys,
          message: `${cm.narrowing}: ${p.error ?? 'these rows would change'}; widen the target column, or accept it in the plan file with tables.${t.model}.columns.${cm.field}.acceptLoss = "<reason>"`,
        });
      }
    }
    if (!scol) continue;
    const compat = compatible(scol, tcol);
    if (!compat.ok) {
      problems.push({ kind: 'type', table: label, column: cm.target, message: compat.reason });
      continue;
    }
    if (compat.needsValueCheck && tcol.enumLabels) {
      const labels = `ARRAY[${tcol.enumLabels.map(quoteLiteral).join(',')}]::text[]`;
      const bad = scol.isArray
        ? `EXISTS (SELECT 1 FROM unnest(${cm.sourceSql}) x WHERE x::text <> ALL(${labels}))`
        : `${cm.sourceSql} IS NOT NULL AND ${cm.sourceSql}::text <> ALL(${labels})`;
      const r = await sample(bad);
      if (r.count > 0) {
        const vals = (await src.query<{ v: string }>(`SELECT DISTINCT v FROM (SELECT ${scol.isArray ? `unnest(${cm.sourceSql})::text` : `${cm.sourceSql}::text`} AS v FROM ${from} s) x WHERE v <> ALL(${labels}) LIMIT 5`)).rows.map((x) => x.v);
        problems.push({ kind: 'enum-label', table: label, column: cm.target, message: `label(s) ${vals.join(', ')} do not exist in the target enum ${tcol.type}`, count: r.count, sampleKeys: r.keys });
        filters.push(`NOT (${bad})`);
      }
    }
    const sourceNotNull = cm.kind === 'column' && sTable.columns.find((c) => c.name === cm.source)?.notNull;
    if (tcol.notNull && !sourceNotNull) {
      const r = await sample(`${cm.sourceSql} IS NULL`);
      if (r.count > 0) {
        problems.push({ kind: 'not-null', table: label, column: cm.target, message: 'NULL in the source, NOT NULL in the target', count: r.count, sampleKeys: r.keys });
        filters.push(`${cm.sourceSql} IS NOT NULL`);
      }
    }
  }
  for (const u of [tTable.primaryKey, ...tTable.uniques].filter((x) => x.length > 0)) {
    const cms = u.map(colOf);
    if (cms.some((c) => !c)) continue;
    const srcCols = cms.map((c) => (c?.kind === 'column' ? c.source : undefined));
    const guaranteed = srcCols.every(Boolean) && [sTable.primaryKey, ...sTable.uniques].some((su) => su.length === srcCols.length && su.every((c, i) => c === srcCols[i]));
    if (guaranteed) continue;
    const exprs = cms.map((c) => c?.sourceSql as string);
    const r = await src.query<{ groups: string; rows: string; keys: string[] | null }>(
      `SELECT count(*)::text AS groups, coalesce(sum(n), 0)::text AS rows, (array_agg(k ORDER BY k))[1:${n}] AS keys FROM (
         SELECT count(*) AS n, min(${key}::text) AS k FROM ${from} s WHERE ${exprs.map((e) => `${e} IS NOT NULL`).join(' AND ')}
          GROUP BY ${exprs.join(', ')} HAVING count(*) > 1) d`,
    );
    const groups = Number(r.rows[0]?.groups ?? 0);
    if (groups > 0) {
      problems.push({ kind: 'unique', table: label, column: u.join(', '), message: `${groups} duplicate value(s) for a unique key of the target`, count: Number(r.rows[0]?.rows), sampleKeys: r.rows[0]?.keys ?? [] });
      // Keep the first row (by key) of each duplicate group.
      filters.push(`${key} IN (SELECT DISTINCT ON (${exprs.join(', ')}) ${key} FROM ${from} s ORDER BY ${exprs.join(', ')}, ${key})`);
    }
  }
  for (const fk of tTable.foreignKeys) {
    if (fk.refSchema !== t.targetSchema || fk.columns.length !== 1) continue;
    const cm = colOf(fk.columns[0] as string);
    const parent = loaded.plan.tables.find((p) => p.service === t.service && p.targetTable === fk.refTable);
    const pcol = parent?.columns.find((c) => c.target === fk.refColumns[0]);
    if (!cm || !parent || !pcol) continue;
    const guaranteed = cm.kind === 'column' && pcol.kind === 'column' && sTable.foreignKeys.some((sfk) =>
      sfk.columns.length === 1 && sfk.columns[0] === cm.source && sfk.refTable === parent.sourceTable && sfk.refColumns[0] === pcol.source);
    if (guaranteed) continue;
    const orphan = `${cm.sourceSql} IS NOT NULL AND NOT EXISTS (SELECT 1 FROM ${qualified(parent.sourceSchema, parent.sourceTable)} p WHERE p.${pcol.sourceSql} = s.${cm.sourceSql})`;
    const r = await sample(orphan);
    if (r.count > 0) {
      problems.push({ kind: 'orphan', table: label, column: cm.target, message: `points to a ${parent.model} that does not exist (foreign key ${fk.name} inside ${t.service})`, count: r.count, sampleKeys: r.keys });
      filters.push(`NOT (${orphan})`);
    }
  }
  return filters;
}

/**
 * A source check that failed on a row: with plan-file expressions in play, a write refused by the
 * read-only transaction (25006) or a data error (class 22) is the expression's doing, refused like
 * any preflight problem (exit 8) rather than reported as an internal error.
 */
function sourceCheckError(e: unknown, ctx: SplitContext, loaded: LoadedPlan): Error {
  const wrapped = wrapPgError(e, ctx.source.label, [...ctx.secrets]);
  // withTransaction wrapped the server's error already: its SQLSTATE is the cause's.
  const code = String((wrapped.cause as { code?: string } | undefined)?.code ?? (e as { code?: string })?.code ?? '');
  const expressions = loaded.plan.tables.flatMap((t) => t.columns.filter((c) => c.kind === 'expression').map((c) => `${t.model}.${c.field}`));
  if (wrapped.code !== 'INTERNAL' || expressions.length === 0 || !(code === '25006' || code.startsWith('22'))) return wrapped;
  const what = code === '25006' ? 'tried to write to the source (refused: preflight reads in a read-only transaction)' : 'fails on a source row';
  return new VendhubError('PREFLIGHT_FAILED', `preflight refused the split; nothing was written: a plan-file expression (${expressions.join(', ')}) ${what}: ${wrapped.message}`, {
    cause: e, details: wrapped.details, hint: 'Fix the expression in the plan file; an expression may only read the source row.',
  });
}

/**
 * Rows whose value the mapping would change: converted to the target type and back to the source
 * type, their text differs (a rounded timestamp or numeric, a cut string). A value that does not
 * fit at all (numeric overflow) is an error, reported as such with count -1.
 */
async function lossyRows(
  src: pg.PoolClient, valueSql: string, sourceType: string, targetType: string,
  sample: (where: string) => Promise<{ count: number; keys: string[] }>,
): Promise<{ count: number; keys: string[]; error?: string }> {
  const v = `s.${valueSql}`;
  await src.query('SAVEPOINT lossy_rows');
  try {
    const r = await sample(`(${v})::${targetType}::${sourceType}::text IS DISTINCT FROM (${v})::text`);
    await src.query('RELEASE SAVEPOINT lossy_rows');
    return r;
  } catch (e) {
    await src.query('ROLLBACK TO SAVEPOINT lossy_rows');
    return { count: -1, keys: [], error: `some values do not fit (${(e as Error).message})` };
  }
}

/** The row filters a --skip-invalid-rows run applied, recomputed for verify. */
export async function preflightFilters(ctx: SplitContext, loaded: LoadedPlan): Promise<ReadonlyMap<string, readonly string[]>> {
  return (await preflight(ctx, loaded, { resume: true, skipInvalidRows: true })).rowFilters;
}
