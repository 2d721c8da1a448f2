import { VendhubError } from '../errors/vendhub-error.ts';
import { loadPlan, type LoadedPlan } from '../split/load-plan.ts';
import type { PlanFile } from '../split/plan-file.ts';
import { replicationConfig } from '../db/database-handle.ts';
import { withDatabase } from '../db/with-database.ts';
import type { SplitContext } from '../split/split-context.ts';
import type { ApplyDatabase, ApplySide } from './change-applier.ts';
import { followNames } from './follow-names.ts';
import { stream, type FollowProgress, type FollowResult, type StreamSpec } from './follower.ts';
import { reverseAppliers, reverseTables } from './inverse-mapping.ts';
import { slotStatus } from './replication-slot.ts';
import { assertWindowOpen, reverseSlots } from './rollback-window.ts';

export interface FollowBackOptions {
  readonly planFile?: PlanFile;
  /** The forward slot (`--slot` of `split run --follow`); the reverse slots are named after it. */
  readonly slot?: string;
  readonly signal?: AbortSignal;
  /** Per reverse slot: stop that stream once the fence marker with this id is applied (see rollback). */
  readonly stopAtMarkers?: ReadonlyMap<string, string>;
  readonly onProgress?: (target: string, p: FollowProgress) => void;
  readonly progressIntervalMs?: number;
  readonly batchChanges?: number;
  readonly maxQueuedChanges?: number;
  /** Warn when a reverse slot keeps more WAL than this on its target. */
  readonly maxRetainedWalBytes?: number;
}

export interface FollowBackStream extends FollowResult {
  readonly target: string;
  readonly slot: string;
}

export interface FollowBackResult {
  /** interrupted if any stream was; fence when every stream reached its marker; else slot-released. */
  readonly reason: FollowResult['reason'];
  readonly streams: readonly FollowBackStream[];
  readonly transactions: number;
  readonly changes: number;
  readonly skipped: number;
  readonly durationMs: number;
}

/**
 * `vendhub-db split follow-back`: during the rollback window, streams each target database's
 * changes (its reverse slot, one stream per database, concurrently) into the monolith through the
 * inverted mapping, as PostgreSQL's subscriber would (`session_replication_role = replica`: the
 * monolith's foreign keys across services do not fire while the streams run independently). The
 * monolith records each reverse slot's position in its `follow_state` with the changes, so a
 * restart resumes exactly. Ends on the signal, or when `rollback`/`end-rollback-window` take the slots.
 * Runs on the caller's context (rollback runs it in-process with the plan it read, `preloaded`).
 */
export async function followBack(ctx: SplitContext, opts: FollowBackOptions = {}, preloaded?: LoadedPlan): Promise<FollowBackResult> {
  const started = performance.now();
  const names = followNames(opts.slot);
  const loaded = preloaded ?? (await loadPlan(ctx, opts.planFile ?? {}));
  const tables = reverseTables(loaded);
  const slots = reverseSlots(ctx, names.slot);
  await assertWindowOpen(ctx, slots, names.slot);
  const monolith: ApplyDatabase = { pool: ctx.sourceWriter.pool, label: ctx.sourceWriter.label, replicaRole: true };
  const to: ApplySide = { targets: [monolith], secrets: ctx.secrets };
  const specs: StreamSpec[] = [];
  for (const r of slots) {
    const s = await withDatabase(ctx, r.target, (c) => slotStatus(c, r.names.slot));
    if (s.activePid !== null) throw new VendhubError('PREFLIGHT_FAILED', `the slot ${r.names.slot} on ${r.target.label} is in use by another process (${s.activePid})`, { hint: 'Stop the other `split follow-back` first; only one may stream from a slot.' });
    specs.push({
      from: { connection: replicationConfig(r.target.connection), pool: r.target.pool, label: r.target.label, names: r.names },
      to, appliers: reverseAppliers(tables, r.target.services, loaded), targetOf: () => monolith,
      wording: {
        startCommand: '`split cutover --rollback-window`',
        schemaFix: 'Bring the monolith along (the same column in the monolith table) or keep the column out of the target, then run `vendhub-db split follow-back` again: it resumes exactly with the change that stopped it (<table>).',
        where: r.target.label,
        resumeHint: 'Fix the cause, then run `vendhub-db split follow-back` again: it resumes where the monolith stopped.',
        retainedAdvice: 'keep `split follow-back` running, or close the window (`split rollback` or `split end-rollback-window`), or that disk fills',
      },
    });
  }
  const results = await runAll(specs, opts);
  const sum = (k: 'transactions' | 'changes' | 'skipped') => results.reduce((n, r) => n + r[k], 0);
  const reason = results.some((r) => r.reason === 'interrupted') ? 'interrupted' : results.every((r) => r.reason === 'fence') ? 'fence' : 'slot-released';
  return { reason, streams: results, transactions: sum('transactions'), changes: sum('changes'), skipped: sum('skipped'), durationMs: Math.round(performance.now() - started) };
}

/** Runs every stream concurrently; the first failure stops the others and is thrown. */
async function runAll(specs: readonly StreamSpec[], opts: FollowBackOptions): Promise<FollowBackStream[]> {
  const inner = new AbortController();
  const stop = () => inner.abort();
  if (opts.signal?.aborted) stop();
  opts.signal?.addEventListener('abort', stop);
  try {
    const runs = specs.map((spec) => {
      const marker = opts.stopAtMarkers?.get(spec.from.names.slot);
      return stream(spec, {
        signal: inner.signal,
        ...(marker ? { stopAtMarker: marker } : {}),
        ...(opts.onProgress ? { onProgress: (p: FollowProgress) => opts.onProgress?.(spec.from.label, p) } : {}),
        ...(opts.progressIntervalMs ? { progressIntervalMs: opts.progressIntervalMs } : {}),
        ...(opts.batchChanges ? { batchChanges: opts.batchChanges } : {}),
        ...(opts.maxQueuedChanges ? { maxQueuedChanges: opts.maxQueuedChanges } : {}),
        ...(opts.maxRetainedWalBytes ? { maxRetainedWalBytes: opts.maxRetainedWalBytes } : {}),
      }).then((r) => ({ ...r, target: spec.from.label, slot: spec.from.names.slot }), (e: unknown) => {
        stop();
        throw e;
      });
    });
    const settled = await Promise.allSettled(runs);
    const failed = settled.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) throw failed.reason;
    return settled.map((r) => (r as PromiseFulfilledResult<FollowBackStream>).value);
  } finally {
    opts.signal?.removeEventListener('abort', stop);
  }
}
