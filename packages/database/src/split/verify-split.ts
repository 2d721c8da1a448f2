import type pg from 'pg';
import { wrapPgError } from '../errors/pg-errors.ts';
import { latestRun, loadChunks } from './checkpoint-store.ts';
import { chunkBounds } from './chunking.ts';
import { loadPlan, type LoadedPlan } from './load-plan.ts';
import type { PlanFile } from './plan-file.ts';
import { CANONICAL_SESSION, hashSides, keyCollation, rangeMedianSql, rangeRowsSql, rangeSummarySql, type KeyRange, type SideSql } from './row-hash.ts';
import { syncSequences } from './sequences.ts';
import { exportSnapshot, releaseSnapshotClient, type SnapshotClient } from './snapshot.ts';
import { checkSoftReferences, type SoftReferenceResult } from './soft-reference-check.ts';
import { openTransaction, withDatabase } from '../db/with-database.ts';
import type { SplitContext, TargetDatabase } from './split-context.ts';
import type { SplitListener } from './split-events.ts';
import type { TableMapping } from './split-plan.ts';
import { preflightFilters } from './preflight.ts';

export interface TableVerifyResult {
  readonly model: string;
  readonly service: string;
  readonly target: string;
  readonly sourceRows: number;
  readonly targetRows: number;
  readonly ranges: number;
  /** Columns compared after a lossy conversion the plan file accepted (acceptLoss), with why. */
  readonly acceptedLoss: readonly string[];
  readonly mismatchedRanges: number;
  /** Keys present in the source, absent in the target (sample, up to the limit). */
  readonly missing: readonly string[];
  /** Keys present in the target, absent in the source. */
  readonly extra: readonly string[];
  /** Keys present on both sides with different content. */
  readonly changed: readonly string[];
  readonly ok: boolean;
  readonly durationMs: number;
}

export interface VerifyResult {
  readonly ok: boolean;
  readonly tables: readonly TableVerifyResult[];
  readonly softReferences: readonly SoftReferenceResult[];
  readonly sequencesSet: readonly string[];
  readonly durationMs: number;
}

export interface VerifyOptions {
  readonly planFile?: PlanFile;
  readonly parallel?: number;
  readonly chunkRows?: number;
  /** Differing keys reported per table at most. */
  readonly maxDifferences?: number;
  /** Rows left out by --skip-invalid-rows in the run are left out of the comparison too. */
  readonly skipInvalidRows?: boolean;
  readonly onEvent?: SplitListener;
  /**
   * Compare one fixed instant instead of the live databases: a snapshot exported on the source and
   * one per target database (keyed by `TargetDatabase.key`), each held open by its exporter until
   * verify returns. `cutover --verify after-switch` passes those it took at the fence, so the
   * services may already write to the targets (and a rollback stream to the source) meanwhile.
   */
  readonly snapshots?: { readonly source: string; readonly targets: ReadonlyMap<string, string> };
  /** Set target sequences past the copied maximum (default true; off when the targets are live). */
  readonly setSequences?: boolean;
  /** From `keyOrderings`, read before a write freeze (cutover, rollback); read here when absent. */
  readonly keyOrderings?: ReadonlyMap<string, boolean>;
}

const PINPOINT_ROWS = 2_000;

/**
 * `vendhub-db split verify`: compares source and targets through the mapping: row counts and a
 * content hash per key range, narrowing mismatched ranges down to the differing keys. It also
 * reports soft references that point nowhere and sets target sequences past the copied maximum.
 * Runs on the caller's context (`opts.parallel` connections per side) with the plan the command
 * already read (`preloaded`; read here when absent): cutover and rollback verify this way inside
 * the write freeze, without opening pools or re-reading catalogs.
 */
export async function verifySplit(ctx: SplitContext, opts: VerifyOptions = {}, preloaded?: LoadedPlan): Promise<VerifyResult> {
  const started = performance.now();
  const parallel = opts.parallel ?? 2;
  const emit = opts.onEvent ?? (() => {});
  const loaded = preloaded ?? (await loadPlan(ctx, opts.planFile ?? {}));
  const filters = opts.skipInvalidRows ? await preflightFilters(ctx, loaded) : new Map<string, readonly string[]>();
  const orderings = opts.keyOrderings ?? (await keyOrderings(ctx, loaded));
  emit({ type: 'phase', phase: 'verify', message: `comparing ${loaded.plan.tables.length} tables` });
  const snapshot = await exportSnapshot(ctx, opts.snapshots?.source);
  const jobs: { t: TableMapping; range: KeyRange; sides: { source: SideSql; target: SideSql } }[] = [];
  try {
    for (const t of loaded.plan.tables) {
      const target = loaded.targetTables.get(t.service)?.get(t.targetTable);
      if (!target) continue;
      const sameOrdering = orderings.get(t.model) ?? (await sameKeyOrdering(ctx, t));
      const sides = hashSides(t, loaded.sourceTables.get(t.sourceTable), target, filters.get(t.model) ?? [], sameOrdering);
      const found = await rangesFor(ctx, t, snapshot.coordinator, opts.chunkRows ?? 100_000);
      // Bounds come in the source's key order; compared byte-wise they must be sorted byte-wise
      // too, or the ranges overlap and rows are counted (and listed) more than once.
      const bounds = sameOrdering ? found : await byteOrdered(snapshot.coordinator, found);
      const los = [null, ...bounds];
      los.forEach((lo, i) => jobs.push({ t, range: { lo, hi: bounds[i] ?? null }, sides }));
    }
    const perTable = new Map<string, { src: number; tgt: number; bad: number; ranges: number; missing: string[]; extra: string[]; changed: string[]; ms: number }>();
    for (const t of loaded.plan.tables) perTable.set(t.model, { src: 0, tgt: 0, bad: 0, ranges: 0, missing: [], extra: [], changed: [], ms: 0 });
    const limit = opts.maxDifferences ?? 100;
    let next = 0;
    const worker = async () => {
      const srcTx = await snapshot.open();
      const src = srcTx.client;
      let failed = false;
      try {
        await src.query(CANONICAL_SESSION);
        while (next < jobs.length) {
          const job = jobs[next++] as (typeof jobs)[number];
          const acc = perTable.get(job.t.model) as NonNullable<ReturnType<typeof perTable.get>>;
          const t0 = performance.now();
          const tgtTx = await openTarget(ctx, ctx.targetFor(job.t.service), opts.snapshots?.targets);
          const tgt = tgtTx.client;
          let tgtFailed = false;
          try {
            await tgt.query(CANONICAL_SESSION);
            const hasKey = job.t.sourceKey !== undefined && job.t.targetKey !== undefined;
            const [s, g] = await Promise.all([summary(src, job.sides.source, job.range, hasKey), summary(tgt, job.sides.target, job.range, hasKey)]);
            acc.src += s.n;
            acc.tgt += g.n;
            acc.ranges++;
            if (s.n !== g.n || s.h !== g.h) {
              acc.bad++;
              if (hasKey && acc.missing.length + acc.extra.length + acc.changed.length < limit) {
                await pinpoint(src, tgt, job.sides, job.range, s.n, acc, limit);
              }
            }
          } catch (e) {
            failed = true;
            tgtFailed = true;
            throw wrapPgError(e, `verify of ${job.t.model}`, [...ctx.secrets]);
          } finally {
            await releaseSnapshotClient(tgtTx, tgtFailed);
            acc.ms += performance.now() - t0;
          }
        }
      } finally {
        await releaseSnapshotClient(srcTx, failed);
      }
    };
    await Promise.all(Array.from({ length: parallel }, worker));
    const tables: TableVerifyResult[] = loaded.plan.tables.map((t) => {
      const a = perTable.get(t.model) as NonNullable<ReturnType<typeof perTable.get>>;
      return {
        model: t.model, service: t.service, target: `${t.targetSchema}.${t.targetTable}`, sourceRows: a.src, targetRows: a.tgt,
        ranges: a.ranges, mismatchedRanges: a.bad, missing: a.missing, extra: a.extra, changed: a.changed,
        acceptedLoss: t.columns.filter((c) => c.acceptedLoss !== undefined).map((c) => `${c.target}: ${c.narrowing} (accepted: ${c.acceptedLoss})`),
        ok: a.bad === 0 && a.src === a.tgt, durationMs: Math.round(a.ms),
      };
    });
    const softReferences = await checkSoftReferences(ctx, loaded.plan);
    const sequencesSet: string[] = [];
    if (opts.setSequences !== false) for (const target of ctx.targets) {
      sequencesSet.push(...(await withDatabase(ctx, target, (c) => syncSequences(c, loaded.plan.tables.filter((t) => target.services.includes(t.service))))));
    }
    return { ok: tables.every((t) => t.ok), tables, softReferences, sequencesSet, durationMs: Math.round(performance.now() - started) };
  } finally {
    await snapshot.close();
  }
}

/** A target transaction, inside the given snapshot of its database when there is one (ended with releaseSnapshotClient). */
async function openTarget(ctx: SplitContext, target: TargetDatabase, snapshots: ReadonlyMap<string, string> | undefined): Promise<SnapshotClient> {
  const id = snapshots?.get(target.key);
  return openTransaction(target, { isolation: 'repeatable read', readOnly: true, secrets: ctx.secrets, ...(id !== undefined ? { snapshot: id } : {}) });
}

async function summary(c: pg.ClientBase, side: SideSql, r: KeyRange, hasKey: boolean): Promise<{ n: number; h: string }> {
  const row = (await c.query<{ n: string; h: string }>(rangeSummarySql(side, r, hasKey))).rows[0];
  return { n: Number(row?.n ?? 0), h: row?.h ?? '0' };
}

/** Bisects a mismatched range until it is small, then diffs keys and row hashes. */
async function pinpoint(
  src: pg.ClientBase, tgt: pg.ClientBase, sides: { source: SideSql; target: SideSql }, r: KeyRange, count: number,
  acc: { missing: string[]; extra: string[]; changed: string[] }, limit: number,
): Promise<void> {
  const full = () => acc.missing.length + acc.extra.length + acc.changed.length >= limit;
  if (full()) return;
  if (count > PINPOINT_ROWS) {
    const mid = (await src.query<{ k: string }>(rangeMedianSql(sides.source, r, count))).rows[0]?.k;
    if (mid !== undefined && mid !== r.hi) {
      for (const half of [{ lo: r.lo, hi: mid }, { lo: mid, hi: r.hi }]) {
        const [s, g] = await Promise.all([summary(src, sides.source, half, true), summary(tgt, sides.target, half, true)]);
        if (s.n !== g.n || s.h !== g.h) await pinpoint(src, tgt, sides, half, Math.max(s.n, g.n), acc, limit);
      }
      return;
    }
  }
  const [a, b] = await Promise.all([src.query<{ k: string; h: string }>(rangeRowsSql(sides.source, r, true)), tgt.query<{ k: string; h: string }>(rangeRowsSql(sides.target, r, true))]);
  const theirs = new Map(b.rows.map((x) => [x.k, x.h]));
  for (const { k, h } of a.rows) {
    if (full()) return;
    const other = theirs.get(k);
    if (other === undefined) acc.missing.push(k);
    else if (other !== h) acc.changed.push(k);
    theirs.delete(k);
  }
  for (const k of theirs.keys()) {
    if (full()) return;
    acc.extra.push(k);
  }
}

/** Key ranges for verifying a table: the chunks of the last run when recorded, else fresh bounds. */
async function rangesFor(ctx: SplitContext, t: TableMapping, src: pg.ClientBase, chunkRows: number): Promise<string[]> {
  if (!t.sourceKey || !t.targetKey) return [];
  const target = ctx.targetFor(t.service);
  const recorded = await withDatabase(ctx, target, async (c) => {
    const run = await latestRun(c);
    const chunks = run ? await loadChunks(c, run.runId, t.model) : [];
    return chunks.length > 0 ? chunks.slice(0, -1).map((x) => x.hi as string) : undefined;
  });
  return recorded ?? chunkBounds(src, t, chunkRows);
}

/**
 * Per mapped model: whether its source and target keys sort the same way (same effective
 * collation), read from both catalogs. Cutover and rollback read it with the plan, before their
 * write freeze, and hand it to verify (`keyOrderings`), so no catalog is read inside the freeze.
 */
export async function keyOrderings(ctx: SplitContext, loaded: LoadedPlan): Promise<ReadonlyMap<string, boolean>> {
  const out = new Map<string, boolean>();
  for (const t of loaded.plan.tables) if (loaded.targetTables.get(t.service)?.get(t.targetTable)) out.set(t.model, await sameKeyOrdering(ctx, t));
  return out;
}

/** Whether the source and target keys of a table sort the same way (same effective collation). */
async function sameKeyOrdering(ctx: SplitContext, t: TableMapping): Promise<boolean> {
  if (!t.sourceKey || !t.targetKey) return true;
  const target = ctx.targetFor(t.service);
  const a = await withDatabase(ctx, ctx.source, (c) => keyCollation(c as never, t.sourceSchema, t.sourceTable, t.sourceKey as string));
  const b = await withDatabase(ctx, target, (c) => keyCollation(c as never, t.targetSchema, t.targetTable, t.targetKey as string));
  return a === b;
}

/** Distinct range bounds sorted by their bytes (COLLATE "C"), as the byte-wise range predicates need. */
async function byteOrdered(c: pg.ClientBase, bounds: readonly string[]): Promise<string[]> {
  if (bounds.length === 0) return [];
  const r = await c.query<{ b: string }>(`SELECT b FROM (SELECT DISTINCT unnest($1::text[]) AS b) x ORDER BY b COLLATE "C"`, [bounds]);
  return r.rows.map((x) => x.b);
}
