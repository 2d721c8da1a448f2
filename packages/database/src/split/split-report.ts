import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { SplitRunResult } from './run-split.ts';
import type { SplitPlan } from './split-plan.ts';
import type { VerifyResult } from './verify-split.ts';
import { formatProblem } from './preflight.ts';

export interface SplitReport {
  readonly runId: string;
  readonly generatedAt: string;
  readonly run: Omit<SplitRunResult, 'plan' | 'preflight'> & { readonly skippedRows: SplitRunResult['preflight']['skipped'] } | undefined;
  readonly verify: VerifyResult | undefined;
  readonly tables: readonly {
    model: string; service: string; source: string; target: string; sourceRows: number | undefined; targetRows: number | undefined;
    durationMs: number | undefined; rowsPerSecond: number | undefined; verified: boolean | undefined;
  }[];
}

/** One record per table feeding the Markdown and the JSON alike. */
export function buildReport(plan: SplitPlan, run: SplitRunResult | undefined, verify: VerifyResult | undefined): SplitReport {
  const tables = plan.tables.map((t) => {
    const r = run?.tables.find((x) => x.model === t.model);
    const v = verify?.tables.find((x) => x.model === t.model);
    return {
      model: t.model, service: t.service, source: `${t.sourceSchema}.${t.sourceTable}`, target: `${t.targetSchema}.${t.targetTable}`,
      sourceRows: v?.sourceRows, targetRows: v?.targetRows ?? r?.rows, durationMs: r?.durationMs, rowsPerSecond: r?.rowsPerSecond, verified: v?.ok,
    };
  });
  const runPart = run ? (({ plan: _p, preflight, ...rest }) => ({ ...rest, skippedRows: preflight.skipped }))(run) : undefined;
  return { runId: run?.runId ?? 'verify', generatedAt: new Date().toISOString(), run: runPart, verify, tables };
}

export function reportMarkdown(rep: SplitReport): string {
  const out: string[] = [`# VendHub split report ${rep.runId}`, '', `Generated ${rep.generatedAt}.`, ''];
  if (rep.run) {
    const r = rep.run;
    out.push(`Run ${r.runId}: ${r.dryRun ? 'dry run (nothing written)' : r.interrupted ? 'INTERRUPTED (resume with --resume)' : 'finished'}${r.resumed ? ', resumed' : ''}; ${r.rows.toLocaleString('en-US')} rows in ${(r.durationMs / 1000).toFixed(1)} s.`, '');
  }
  out.push('| table | service | target | source rows | target rows | copy s | rows/s | verified |', '|---|---|---|---:|---:|---:|---:|---|');
  for (const t of rep.tables) {
    const n = (x: number | undefined) => (x === undefined ? '–' : x.toLocaleString('en-US'));
    out.push(`| ${t.source} | ${t.service} | ${t.target} | ${n(t.sourceRows)} | ${n(t.targetRows)} | ${t.durationMs === undefined ? '–' : (t.durationMs / 1000).toFixed(2)} | ${n(t.rowsPerSecond)} | ${t.verified === undefined ? '–' : t.verified ? 'equal' : '**DIFFERENT**'} |`);
  }
  if (rep.run?.skippedRows.length) {
    out.push('', '## Rows left out (--skip-invalid-rows)', '');
    for (const p of rep.run.skippedRows) out.push(`- ${formatProblem(p)}`);
  }
  if (rep.verify) {
    const bad = rep.verify.tables.filter((t) => !t.ok);
    if (bad.length) {
      out.push('', '## Differences', '');
      for (const t of bad) {
        out.push(`- ${t.target}: source ${t.sourceRows}, target ${t.targetRows}, ${t.mismatchedRanges}/${t.ranges} key ranges differ` +
          `${t.missing.length ? `; missing ${t.missing.slice(0, 10).join(', ')}` : ''}${t.changed.length ? `; changed ${t.changed.slice(0, 10).join(', ')}` : ''}${t.extra.length ? `; extra ${t.extra.slice(0, 10).join(', ')}` : ''}`);
      }
    }
    const lossy = rep.verify.tables.flatMap((t) => t.acceptedLoss.map((c) => `- ${t.target}.${c}`));
    if (lossy.length) out.push('', '## Compared after a loss the plan file accepts', '', ...lossy);
    out.push('', '## Cross-service references (no foreign key after the split)', '', '| reference | rows pointing nowhere | samples |', '|---|---:|---|');
    for (const s of rep.verify.softReferences) out.push(`| ${s.reference} | ${s.danglingRows} | ${s.samples.map((x) => `${x.key} → ${x.value}`).join(', ') || '–'} |`);
    if (rep.verify.sequencesSet.length) out.push('', `Sequences set: ${rep.verify.sequencesSet.join(', ')}`);
  }
  return `${out.join('\n')}\n`;
}

/** Writes `<dir>/split-<runId>.md` and `.json`; returns their paths. */
export function writeReport(rep: SplitReport, dir: string): { markdown: string; json: string } {
  const abs = resolve(dir);
  mkdirSync(abs, { recursive: true });
  const md = join(abs, `split-${rep.runId}.md`);
  const js = join(abs, `split-${rep.runId}.json`);
  writeFileSync(md, reportMarkdown(rep));
  writeFileSync(js, `${JSON.stringify(rep, null, 2)}\n`);
  return { markdown: md, json: js };
}
