import type { Env } from '../../config/database-config.ts';
import { EXIT } from '../../errors/exit-codes.ts';
import { describePlan } from '../../split/describe-plan.ts';
import { readCatalogObjects } from '../../split/catalog-objects.ts';
import { accountPlan, describeAccounting } from '../../split/plan-accounting.ts';
import { allTargetModels } from '../../split/target-models.ts';
import { loadPlan } from '../../split/load-plan.ts';
import { loadPlanFile } from '../../split/plan-file.ts';
import { createProgress } from '../../split/progress.ts';
import { withDatabase } from '../../db/with-database.ts';
import type { LoadedPlan } from '../../split/load-plan.ts';
import { runSplit, runSplitConnections, type SplitRunResult } from '../../split/run-split.ts';
import { withSplitContext } from '../../split/split-context.ts';
import { buildReport, reportMarkdown, writeReport } from '../../split/split-report.ts';
import { verifySplit, type VerifyResult } from '../../split/verify-split.ts';
import { VendhubError } from '../../errors/vendhub-error.ts';
import type { CommandContext } from '../context.ts';
import { printJson, type Output } from '../output.ts';

export interface SplitCliOptions {
  plan?: string;
  parallel?: string;
  chunkRows?: string;
  indexJobs?: string;
  deferIndexes?: boolean;
  resume?: boolean;
  dryRun?: boolean;
  skipInvalidRows?: boolean;
  verify?: boolean;
  reportDir?: string;
  progress?: boolean;
  strict?: boolean;
}

const int = (name: string, v: string | undefined, dflt: number, min: number, max: number): number => {
  if (v === undefined) return dflt;
  if (!/^\d+$/.test(v) || Number(v) < min || Number(v) > max) throw new VendhubError('USAGE', `--${name} must be a whole number from ${min} to ${max}, got "${v}"`);
  return Number(v);
};

/** `vendhub-db split plan`: the mapping, derived from the service schemas and the plan file. */
export async function splitPlanCommand(o: SplitCliOptions, ctx: CommandContext): Promise<number> {
  const planFile = loadPlanFile(o.plan);
  return withSplitContext(ctx.env, { parallel: 1 }, async (sc) => {
    const { plan, sourceTables, targetTables } = await loadPlan(sc, planFile);
    const objects = await withDatabase(sc, sc.source, (c) => readCatalogObjects(c, plan.sourceSchema));
    const accounting = accountPlan({ plan, sourceTables, targetTables, objects, models: allTargetModels(), planFile });
    const unsourced = accounting.unsourcedColumns.filter((c) => !c.explicit);
    if (ctx.json) printJson(ctx.output, { ok: !(o.strict && unsourced.length), plan, accounting });
    else for (const l of [...describePlan(plan, sc), ...describeAccounting(accounting, o.strict === true)]) ctx.output.out(l);
    if (o.strict && unsourced.length > 0) {
      throw new VendhubError('PLAN_INVALID', `--strict: ${unsourced.length} target column${unsourced.length > 1 ? 's have' : ' has'} no source column:\n  - ${unsourced.map((c) => c.column).join('\n  - ')}`, {
        details: { problems: unsourced.map((c) => c.column) },
        hint: 'Map each in the plan file (tables.<Model>.columns.<field>: {"source": ...} or {"expression": ...}), or declare it {"default": true} if its default is what you want.',
      });
    }
    return EXIT.OK;
  });
}

/** `vendhub-db split run`: preflight, copy, then (by default) verify, with a report. */
export async function splitRunCommand(o: SplitCliOptions, ctx: CommandContext, signal?: AbortSignal): Promise<number> {
  const planFile = loadPlanFile(o.plan);
  const parallel = int('parallel', o.parallel, 2, 1, 32);
  const chunkRows = int('chunk-rows', o.chunkRows, 250_000, 100, 100_000_000);
  const indexJobs = int('index-jobs', o.indexJobs, parallel, 1, 32);
  const progress = createProgress(ctx.output, o.progress === false ? { tty: false, intervalMs: Number.MAX_SAFE_INTEGER } : {});
  // One context for the copy and the verify after it (verify needs `parallel`, the copy more).
  return withSplitContext(ctx.env, { parallel: runSplitConnections({ parallel, indexJobs }) }, async (sc) => {
    let run: SplitRunResult;
    let loaded: LoadedPlan | undefined;
    try {
      run = await runSplit(sc, {
        planFile, parallel, chunkRows, indexJobs, deferIndexes: o.deferIndexes !== false, resume: o.resume === true, dryRun: o.dryRun === true, skipInvalidRows: o.skipInvalidRows === true,
        ...(signal ? { signal } : {}), onEvent: progress.listener, onPlan: (l) => void (loaded = l),
      });
    } finally {
      progress.stop();
    }
    let verify: VerifyResult | undefined;
    if (!run.dryRun && !run.interrupted && o.verify !== false) {
      verify = await verifySplit(sc, { planFile, parallel, chunkRows, skipInvalidRows: o.skipInvalidRows === true, onEvent: progress.listener }, loaded);
    }
    return finish(ctx, buildReport(run.plan, run, verify), o.reportDir, run.interrupted ? EXIT.INTERRUPTED : verify && !verify.ok ? EXIT.VERIFY : EXIT.OK);
  });
}

/** `vendhub-db split verify`: exit 10 when source and targets differ. */
export async function splitVerifyCommand(o: SplitCliOptions, ctx: CommandContext): Promise<number> {
  const planFile = loadPlanFile(o.plan);
  const parallel = int('parallel', o.parallel, 2, 1, 32);
  return withSplitContext(ctx.env, { parallel }, async (sc) => {
    const loaded = await loadPlan(sc, planFile);
    const verify = await verifySplit(sc, { planFile, parallel, skipInvalidRows: o.skipInvalidRows === true }, loaded);
    return finish(ctx, buildReport(loaded.plan, undefined, verify), o.reportDir, verify.ok ? EXIT.OK : EXIT.VERIFY);
  });
}

function finish(ctx: CommandContext, rep: ReturnType<typeof buildReport>, reportDir: string | undefined, code: number): number {
  const files = reportDir ? writeReport(rep, reportDir) : undefined;
  if (ctx.json) printJson(ctx.output, { ok: code === EXIT.OK, exitCode: code, report: rep, files });
  else {
    ctx.output.out(reportMarkdown(rep));
    if (files) ctx.output.out(`report written to ${files.markdown} and ${files.json}`);
    if (code === EXIT.INTERRUPTED) ctx.output.err('interrupted at a chunk boundary: run the same command with --resume to continue');
    if (code === EXIT.VERIFY) ctx.output.err('verify found differences between the source and the targets (see "Differences")');
  }
  return code;
}

export type { Env, Output };
