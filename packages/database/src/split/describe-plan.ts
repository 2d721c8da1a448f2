import type { SplitContext } from './split-context.ts';
import type { SplitPlan } from './split-plan.ts';

/** The whole mapping as text: every table and column, what loses its FK, what is left out, estimates. */
export function describePlan(plan: SplitPlan, ctx: Pick<SplitContext, 'targetFor' | 'serviceConfigs'>): string[] {
  const out: string[] = [`Split plan ${plan.hash} (source schema ${plan.sourceSchema})`];
  const services = [...new Set(plan.tables.map((t) => t.service))];
  for (const s of services) {
    const cfg = ctx.serviceConfigs[s];
    out.push('', `${s} → schema ${cfg.service.schema} in ${cfg.direct.databaseKey} (${cfg.directSource})`);
    for (const t of plan.tables.filter((x) => x.service === s)) {
      out.push(`  ${t.sourceSchema}."${t.sourceTable}" (~${t.estimate.toLocaleString('en-US')} rows) → ${t.targetSchema}.${t.targetTable}  [COPY ${t.format}${t.dependsOn.length ? `, after ${t.dependsOn.join(', ')}` : ''}${t.sourceKey ? `, chunked by ${t.sourceKey}` : ', one chunk (no primary key)'}]`);
      for (const c of t.columns) {
        const src = c.kind === 'column' ? c.source : `expr ${c.source}`;
        const types = c.sourceType && c.targetType && c.sourceType.replace(/^.*\./, '') !== c.targetType.replace(/^.*\./, '') ? `  (${c.sourceType} → ${c.targetType})` : c.targetType ? `  ${c.targetType}` : '';
        const loss = c.narrowing ? `  LOSSY: ${c.narrowing}${c.acceptedLoss !== undefined ? ` (accepted: ${c.acceptedLoss})` : ' (refused by preflight if any row would change)'}` : '';
        out.push(`      ${src === c.target ? src : `${src} → ${c.target}`}${types}${loss}`);
      }
      for (const d of t.defaulted) out.push(`      (no source) → ${d}  filled by its default or NULL`);
    }
  }
  out.push('', 'Cross-service references that lose their foreign key (checked by `split verify`):');
  for (const r of plan.softReferences) out.push(`  ${r.from.service}.${r.from.model}.${r.from.field} → ${r.to.service}.${r.to.model}.${r.to.field}${r.wasForeignKey ? '' : ' (had no FK in the monolith either)'}`);
  out.push('', 'Ignored in the source schema:');
  for (const t of plan.ignoredTables) out.push(`  table ${t.table}: ${t.reason}`);
  for (const c of plan.ignoredColumns) out.push(`  column ${c.table}.${c.column}: ${c.reason}`);
  if (!plan.ignoredTables.length && !plan.ignoredColumns.length) out.push('  nothing');
  out.push('', 'Out of scope (other schemas of the source, not copied):');
  for (const s of plan.outOfScope) out.push(`  ${s.schema}: ${s.tables} table${s.tables === 1 ? '' : 's'}${s.supabase ? ' (Supabase/PostgreSQL internal)' : ' (not part of the application schema)'}`);
  return out;
}
