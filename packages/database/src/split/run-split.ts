import { randomBytes } from 'node:crypto';
import { VendhubError } from '../errors/vendhub-error.ts';
import { qualified } from '../sql/quote.ts';
import { ensureCheckpointTables, finishRun, insertRun, latestRun, loadChunks, registerChunks, type ChunkRecord } from './checkpoint-store.ts';
import { chunkBounds } from './chunking.ts';
import { runChunks } from './copy-scheduler.ts';
import { deferIndexes, loadDeferred, restoreAbandoned, type DeferredObject } from './deferred-indexes.ts';
import { loadPlan, type LoadedPlan } from './load-plan.ts';
import type { PlanFile } from './plan-file.ts';
import { preflight, type PreflightResult } from './preflight.ts';
import { syncSequences } from './sequences.ts';
import { exportSnapshot } from './snapshot.ts';
import { withDatabase } from '../db/with-database.ts';
import type { SplitContext } from './split-context.ts';
import type { SplitListener } from './split-events.ts';
import type { SplitPlan, TableMapping } from './split-plan.ts';

export interface SplitRunOptions {
  readonly planFile?: PlanFile;
  /** Worker connections per side. */
  readonly parallel?: number;
  /** Target rows per chunk (a chunk is one target transaction and one checkpoint; default 250,000). */
  readonly chunkRows?: number;
  readonly resume?: boolean;
  /** Run everything up to the first write (plan, preflight, snapshot, chunk bounds). */
  readonly dryRun?: boolean;
  readonly skipInvalidRows?: boolean;
  readonly signal?: AbortSignal;
  readonly onEvent?: SplitListener;
  /**
   * Called after preflight instead of exporting a snapshot: returns an exported snapshot id to copy
   * from (`split run --follow` passes the one of its replication slot). Its exporter stays open
   * until the run returns.
   */
  readonly snapshotProvider?: () => Promise<string>;
  /**
   * Drop the targets' secondary indexes, keys and foreign keys before the copy and build them after
   * each table's data, like pg_restore (default true). See deferred-indexes.ts.
   */
  readonly deferIndexes?: boolean;
  /** Connections building deferred indexes and constraints alongside the copy (default: parallel). */
  readonly indexJobs?: number;
  /**
   * Called with the plan as soon as it is read (after indexes an abandoned run left are rebuilt,
   * before preflight): the command verifies with it afterwards, `--follow` checks what following
   * needs. The plan is read once per run.
   */
  readonly onPlan?: (loaded: LoadedPlan) => void | Promise<void>;
}

/** Connections per database a run with these options uses: the context for it must have at least these. */
export function runSplitConnections(opts: Pick<SplitRunOptions, 'parallel' | 'indexJobs'>): number {
  const parallel = opts.parallel ?? 2;
  return parallel + Math.max(1, opts.indexJobs ?? parallel);
}

export interface TableRunResult {
  readonly model: string;
  readonly service: string;
  readonly source: string;
  readonly target: string;
  readonly chunks: number;
  /** Chunks already done by the interrupted run this one resumed. */
  readonly resumedChunks: number;
  /** Rows in the target for this table after the run (resumed plus copied). */
  readonly rows: number;
  readonly copiedNow: number;
  readonly durationMs: number;
  readonly rowsPerSecond: number;
}

export interface SplitRunResult {
  readonly runId: string;
  readonly resumed: boolean;
  readonly dryRun: boolean;
  readonly interrupted: boolean;
  readonly plan: SplitPlan;
  readonly preflight: PreflightResult;
  readonly tables: readonly TableRunResult[];
  readonly rows: number;
  readonly durationMs: number;
  readonly sequencesSet: readonly string[];
  /** Indexes and constraints built after the data by this run. */
  readonly indexesBuilt: number;
}

/**
 * `vendhub-db split run`: plan, preflight, then copy every table from one exported snapshot of the
 * source into the service targets, chunk by chunk, each chunk committed with its checkpoint. Safe
 * to kill at any moment: `resume: true` continues with the same chunks and never copies a row twice.
 * The targets' indexes, keys and foreign keys are dropped before the copy and built after each
 * table's data (deferred-indexes.ts), each checkpointed too; the run ends with every target as
 * `migrate` made it. `ctx` (see withSplitContext) needs `runSplitConnections(opts)` connections.
 */
export async function runSplit(ctx: SplitContext, opts: SplitRunOptions = {}): Promise<SplitRunResult> {
  const started = performance.now();
  const parallel = opts.parallel ?? 2;
  const emit: SplitListener = opts.onEvent ?? (() => {});
  const indexJobs = Math.max(1, opts.indexJobs ?? parallel);
  if (!opts.resume && !opts.dryRun) {
    for (const target of ctx.targets) {
      const restored = await restoreAbandoned(target);
      if (restored.length) emit({ type: 'warning', message: `built ${restored.length} index(es)/constraint(s) an abandoned run had left to build in ${target.label}: ${restored.map((o) => o.name).join(', ')}` });
    }
  }
  emit({ type: 'phase', phase: 'plan', message: 'reading source and target catalogs' });
  const loaded = await loadPlan(ctx, opts.planFile ?? {});
  await opts.onPlan?.(loaded);
  emit({ type: 'phase', phase: 'preflight', message: 'checking privileges, targets and source rows' });
  const pre = await preflight(ctx, loaded, { resume: opts.resume === true, skipInvalidRows: opts.skipInvalidRows === true });
  for (const p of pre.skipped) emit({ type: 'warning', message: `rows left out (--skip-invalid-rows): ${p.table}${p.column ? `.${p.column}` : ''}: ${p.message} (${p.count})` });
  let runId = newRunId();
  if (opts.resume) {
    const found = await findRunToResume(ctx, loaded.plan);
    if (found) runId = found;
    else emit({ type: 'warning', message: 'no interrupted run was recorded in the targets (stopped before the first write?): starting a new run' });
    await checkResumable(ctx, loaded, runId);
  }
  emit({ type: 'phase', phase: 'snapshot', message: 'exporting one snapshot of the source for every table' });
  const snapshot = await exportSnapshot(ctx, opts.snapshotProvider ? await opts.snapshotProvider() : undefined);
  let tables: { t: TableMapping; chunks: ChunkRecord[] }[] = [];
  try {
    const chunkRows = opts.chunkRows ?? 250_000;
    if (opts.dryRun) {
      for (const t of loaded.plan.tables) {
        const bounds = await chunkBounds(snapshot.coordinator, t, chunkRows);
        tables.push({ t, chunks: [null, ...bounds].map((lo, i) => ({ model: t.model, chunkNo: i, lo, hi: bounds[i] ?? null, status: 'pending', rows: 0 })) });
      }
      return result(runId, opts, loaded.plan, pre, tables, new Map(), new Map(), false, started, [], 0);
    }
    for (const target of ctx.targets) await withDatabase(ctx, target, async (c) => {
      await ensureCheckpointTables(c);
      await insertRun(c, runId, loaded.plan.hash);
    });
    tables = [];
    for (const t of loaded.plan.tables) {
      const target = ctx.targetFor(t.service);
      const chunks = await withDatabase(ctx, target, async (c) => {
        const existing = await loadChunks(c, runId, t.model);
        if (existing.length > 0) return existing;
        return registerChunks(c, runId, t.model, await chunkBounds(snapshot.coordinator, t, chunkRows));
      });
      tables.push({ t, chunks });
      const done = chunks.filter((c) => c.status === 'done');
      emit({ type: 'table-start', model: t.model, estimate: t.estimate, chunks: chunks.length, resumedChunks: done.length, resumedRows: done.reduce((a, c) => a + c.rows, 0) });
    }
    const deferred: DeferredObject[] = [];
    for (const target of ctx.targets) {
      const mine = loaded.plan.tables.filter((t) => target.services.includes(t.service));
      deferred.push(...(opts.deferIndexes === false ? await withDatabase(ctx, target, (c) => loadDeferred(c, runId)) : await deferIndexes(target, runId, mine)));
    }
    const pendingFk = new Set(deferred.filter((o) => o.kind === 'foreign-key' && o.status === 'pending').map((o) => `${o.model}\u0000${o.refModel}`));
    // A table whose foreign keys are built after the data need not wait for the tables they reference.
    const scheduled = tables.map(({ t, chunks }) => ({ t: { ...t, dependsOn: t.dependsOn.filter((d) => !pendingFk.has(`${t.model}\u0000${d}`)) }, chunks }));
    const toBuild = deferred.filter((o) => o.status === 'pending').length;
    emit({ type: 'phase', phase: 'copy', message: `copying ${tables.length} tables on ${parallel} connections${toBuild ? `, building ${toBuild} indexes and constraints after their tables' data on ${indexJobs} more` : ''}` });
    const r = await runChunks({ ctx, snapshot, runId, tables: scheduled, filters: pre.rowFilters, parallel, signal: opts.signal, emit, deferred, indexJobs });
    if (r.interrupted) return result(runId, opts, loaded.plan, pre, tables, r.copied, r.durations, true, started, [], r.built);
    emit({ type: 'phase', phase: 'finish', message: 'setting sequences and recording the run as finished' });
    const sequencesSet: string[] = [];
    for (const target of ctx.targets) await withDatabase(ctx, target, async (c) => {
      sequencesSet.push(...(await syncSequences(c, loaded.plan.tables.filter((t) => target.services.includes(t.service)))));
      await finishRun(c, runId);
    });
    return result(runId, opts, loaded.plan, pre, tables, r.copied, r.durations, false, started, sequencesSet, r.built);
  } finally {
    await snapshot.close();
  }
}

function newRunId(): string {
  return `${new Date().toISOString().replace(/[-:.TZ]/g, '').slice(0, 14)}-${randomBytes(3).toString('hex')}`;
}

/** The interrupted run recorded in the targets; all target databases must agree on it. */
async function findRunToResume(ctx: SplitContext, plan: SplitPlan): Promise<string | undefined> {
  const found: { target: string; runId: string; hash: string; status: string }[] = [];
  for (const t of ctx.targets) {
    const r = await withDatabase(ctx, t, (c) => latestRun(c));
    if (r) found.push({ target: t.key, runId: r.runId, hash: r.planHash, status: r.status });
  }
  const running = found.filter((f) => f.status === 'running');
  if (found.length === 0) return undefined;
  if (running.length === 0) {
    throw new VendhubError('PREFLIGHT_FAILED', 'the last split run finished; there is nothing to resume', {
      hint: 'Run `vendhub-db split verify` to check the result.',
    });
  }
  const ids = new Set(running.map((f) => f.runId));
  if (ids.size > 1) throw new VendhubError('PREFLIGHT_FAILED', `target databases record different interrupted runs: ${running.map((f) => `${f.target}: ${f.runId}`).join(', ')}`);
  const first = running[0] as (typeof running)[number];
  if (first.hash !== plan.hash) {
    throw new VendhubError('PREFLIGHT_FAILED', `the plan changed since run ${first.runId} was interrupted (plan ${first.hash}, now ${plan.hash}); a resumed run must copy with the same mapping`, {
      hint: 'Restore the schemas and plan file of that run, or empty the targets and start again.',
    });
  }
  return first.runId;
}

/** On resume, every target table must hold exactly the rows of its finished chunks. */
async function checkResumable(ctx: SplitContext, loaded: LoadedPlan, runId: string): Promise<void> {
  const problems: string[] = [];
  for (const t of loaded.plan.tables) {
    await withDatabase(ctx, ctx.targetFor(t.service), async (c) => {
      const chunks = await loadChunks(c, runId, t.model).catch(() => [] as ChunkRecord[]);
      const expected = chunks.filter((x) => x.status === 'done').reduce((a, x) => a + x.rows, 0);
      const actual = Number((await c.query<{ n: string }>(`SELECT count(*)::text AS n FROM ${qualified(t.targetSchema, t.targetTable)}`)).rows[0]?.n);
      if (actual !== expected) problems.push(`${t.targetSchema}.${t.targetTable} has ${actual} rows but run ${runId} recorded ${expected}`);
    });
  }
  if (problems.length) {
    throw new VendhubError('PREFLIGHT_FAILED', `the targets changed outside the split; resuming could duplicate or lose rows:\n  - ${problems.join('\n  - ')}`, {
      hint: 'Empty the targets and start a new split.',
    });
  }
}

function result(
  runId: string, opts: SplitRunOptions, plan: SplitPlan, pre: PreflightResult, tables: { t: TableMapping; chunks: ChunkRecord[] }[],
  copied: ReadonlyMap<string, number>, durations: ReadonlyMap<string, number>, interrupted: boolean, started: number, sequencesSet: string[],
  indexesBuilt: number,
): SplitRunResult {
  const rows: TableRunResult[] = tables.map(({ t, chunks }) => {
    const resumed = chunks.filter((c) => c.status === 'done');
    const now = copied.get(t.model) ?? 0;
    const ms = durations.get(t.model) ?? 0;
    return {
      model: t.model, service: t.service, source: `${t.sourceSchema}.${t.sourceTable}`, target: `${t.targetSchema}.${t.targetTable}`,
      chunks: chunks.length, resumedChunks: resumed.length, rows: resumed.reduce((a, c) => a + c.rows, 0) + now, copiedNow: now,
      durationMs: Math.round(ms), rowsPerSecond: ms > 0 ? Math.round((now / ms) * 1000) : 0,
    };
  });
  return {
    runId, resumed: opts.resume === true, dryRun: opts.dryRun === true, interrupted, plan, preflight: pre, tables: rows,
    rows: rows.reduce((a, r) => a + r.rows, 0), durationMs: Math.round(performance.now() - started), sequencesSet, indexesBuilt,
  };
}
