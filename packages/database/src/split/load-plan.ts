import type pg from 'pg';
import { readTables, type TableInfo } from '../catalog/table-catalog.ts';
import { SERVICE_INFO, SERVICES, type ServiceName } from '../services.ts';
import { buildPlan } from './build-plan.ts';
import { loadExpressionParser } from './plan-expression.ts';
import type { PlanFile } from './plan-file.ts';
import { withDatabase, withTransaction } from '../db/with-database.ts';
import type { SplitContext } from './split-context.ts';
import type { SplitPlan } from './split-plan.ts';
import { allTargetModels } from './target-models.ts';

export interface LoadedPlan {
  readonly plan: SplitPlan;
  readonly sourceTables: ReadonlyMap<string, TableInfo>;
  readonly targetTables: ReadonlyMap<ServiceName, ReadonlyMap<string, TableInfo>>;
}

/** Reads the source and target catalogs and builds the plan (see buildPlan). */
export async function loadPlan(ctx: SplitContext, planFile: PlanFile): Promise<LoadedPlan> {
  const sourceSchema = planFile.sourceSchema ?? 'public';
  // Like every statement the split sends to the source: inside a read-only transaction.
  const { sourceTables, otherSchemas } = await withTransaction(ctx.source, async (src) => {
    const tables = await readTables(src, sourceSchema);
    const r = await src.query<{ schema: string; tables: number }>(
      `SELECT n.nspname AS schema, count(c.oid)::int AS tables FROM pg_namespace n
         LEFT JOIN pg_class c ON c.relnamespace = n.oid AND c.relkind IN ('r','p')
        WHERE n.nspname <> $1 AND n.nspname NOT IN ('information_schema', 'pg_catalog', 'pg_toast')
          AND n.nspname NOT LIKE 'pg_temp_%' AND n.nspname NOT LIKE 'pg_toast_temp_%'
        GROUP BY n.nspname ORDER BY n.nspname`,
      [sourceSchema],
    );
    return { sourceTables: tables, otherSchemas: r.rows };
  }, { readOnly: true });
  const targetTables = new Map<ServiceName, Map<string, TableInfo>>();
  for (const t of ctx.targets) {
    await withDatabase(ctx, t, async (c) => {
      for (const s of t.services) targetTables.set(s, await readTables(c, SERVICE_INFO[s].schema));
    });
  }
  for (const s of SERVICES) if (!targetTables.has(s)) targetTables.set(s, new Map());
  await loadExpressionParser();
  const plan = buildPlan({ sourceSchema, sourceTables, otherSchemas, models: allTargetModels(), targetTables, planFile });
  return { plan, sourceTables, targetTables };
}

export type { pg };
