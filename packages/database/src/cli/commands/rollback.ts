import { EXIT } from '../../errors/exit-codes.ts';
import { followBack, type FollowBackResult } from '../../follow/follow-back.ts';
import type { FollowProgress } from '../../follow/follower.ts';
import { rollback } from '../../follow/rollback.ts';
import { endRollbackWindow } from '../../follow/rollback-window.ts';
import { loadPlanFile } from '../../split/plan-file.ts';
import { withSplitContext } from '../../split/split-context.ts';
import type { CommandContext } from '../context.ts';
import { printJson } from '../output.ts';
import { int, kb, type FollowCliOptions } from './follow.ts';

/**
 * Connections per database of follow-back and rollback: the reverse streams write into the
 * monolith concurrently, one per target database (as their own contexts were sized before).
 */
const ROLLBACK_CONNECTIONS = 6;

/** `split follow-back`: keep the monolith in sync from the targets during the rollback window. */
export async function splitFollowBackCommand(o: FollowCliOptions, ctx: CommandContext, signal?: AbortSignal): Promise<number> {
  const progress = (target: string, p: FollowProgress) => {
    ctx.output.err(`follow-back ${target}: applied ${p.appliedLsn}, ${p.changes} changes (${p.changesPerSecond}/s), lag ${kb(p.lagBytes)} / ${p.lagSeconds.toFixed(1)} s, queued ${p.queuedChanges}, slot retains ${kb(p.retainedWalBytes)}`);
    if (p.warning) ctx.output.err(`warning: ${p.warning}`);
  };
  const planFile = loadPlanFile(o.plan);
  const maxRetainedWalBytes = int('max-retained-wal', o.maxRetainedWal, 1024, 1, 10_000_000) * 1024 * 1024;
  const r: FollowBackResult = await withSplitContext(ctx.env, { parallel: ROLLBACK_CONNECTIONS }, (sc) => followBack(sc, {
    planFile, ...(o.slot ? { slot: o.slot } : {}), ...(signal ? { signal } : {}), maxRetainedWalBytes,
    ...(o.progress === false ? {} : { onProgress: progress }),
  }));
  if (ctx.json) printJson(ctx.output, { ok: true, followBack: r });
  else {
    ctx.output.out(`follow-back stopped (${r.reason}): ${r.transactions} transactions, ${r.changes} changes, ${r.skipped} already applied`);
    for (const s of r.streams) ctx.output.out(`  ${s.target}: slot ${s.slot} applied up to ${s.appliedLsn} (${s.reason})`);
  }
  if (r.reason === 'interrupted') {
    ctx.output.err('interrupted: run `vendhub-db split follow-back` to continue where the monolith stopped');
    return EXIT.INTERRUPTED;
  }
  return EXIT.OK;
}

/** `split rollback`: fence the targets, catch the monolith up, verify, reopen the monolith; prints the freeze and the URLs. */
export async function splitRollbackCommand(o: FollowCliOptions, ctx: CommandContext): Promise<number> {
  const planFile = loadPlanFile(o.plan);
  const writersTimeoutMs = int('writers-timeout', o.writersTimeout, 15, 0, 86_400) * 1000;
  const catchUpTimeoutMs = int('catch-up-timeout', o.catchUpTimeout, 300, 1, 86_400) * 1000;
  const parallel = int('parallel', o.parallel, 2, 1, 32);
  const r = await withSplitContext(ctx.env, { parallel: Math.max(parallel, ROLLBACK_CONNECTIONS) }, (sc) => rollback(sc, {
    planFile, ...(o.slot ? { slot: o.slot } : {}), fence: o.waitForWritersStopped ? 'wait' : 'revoke', writersTimeoutMs, catchUpTimeoutMs,
    verify: o.verify !== false, parallel,
    onPhase: (name, ms) => { if (!ctx.json) ctx.output.err(`rollback: ${name} ${ms} ms`); },
  }));
  if (ctx.json) {
    printJson(ctx.output, { ok: true, rollback: { ...r, verify: r.verify ? { ok: r.verify.ok, tables: r.verify.tables.length } : undefined } });
    return EXIT.OK;
  }
  const frozen = Object.entries(r.phases).filter(([k]) => k !== 'drop-slots');
  ctx.output.out(`write freeze: ${(r.writeFreezeMs / 1000).toFixed(2)} s (${frozen.map(([k, v]) => `${k} ${v} ms`).join(', ')})`);
  ctx.output.out(`targets fenced (${r.fence === 'revoke' ? `${r.revoked.length} write grants revoked` : 'services stopped by the operator'}); ${r.appliedAfterFence} changes applied to the monolith while frozen`);
  if (r.verify) ctx.output.out(`verify: ${r.verify.tables.length} tables equal`);
  ctx.output.out(`monolith: ${r.restored.length} write grants restored, ${r.sequencesSet.length} sequences set; then reverse slots dropped: ${r.slotsDropped.length} (${r.phases['drop-slots'] ?? 0} ms)`);
  for (const v of r.foreignKeyViolations) ctx.output.err(`warning: ${v.rows} rows of ${v.table} break the foreign key ${v.constraint} (a service deleted rows another one still references during the window)`);
  ctx.output.out('the monolith is the system of record again; the targets stay read-only (`split end-rollback-window` gives their write grants back).');
  ctx.output.out('set in each service (the monolith as SOURCE_DATABASE_URL names it; use each service\'s own credentials):');
  for (const l of r.environment) ctx.output.out(`  ${l}`);
  return EXIT.OK;
}

/** `split end-rollback-window`: drop the reverse slots, reopen the targets if a rollback fenced them, forget the window. */
export async function splitEndRollbackWindowCommand(o: FollowCliOptions, ctx: CommandContext): Promise<number> {
  const r = await withSplitContext(ctx.env, { parallel: 1 }, (sc) => endRollbackWindow(sc, o.slot ? { slot: o.slot } : {}));
  if (ctx.json) {
    printJson(ctx.output, { ok: true, endRollbackWindow: r });
    return EXIT.OK;
  }
  for (const c of r.slots) {
    ctx.output.out(`${c.target}: slot ${c.slot} ${c.slotDropped ? 'dropped' : 'absent'}, publication ${c.publicationDropped ? 'dropped' : 'absent'}, ${c.restored.length} write grants restored`);
  }
  if (r.was === 'open') ctx.output.out('the rollback window is closed: the targets stay the system of record; their changes no longer reach the monolith, which stays read-only (`split abort` gives its write grants back)');
  else if (r.was === 'rolled-back') ctx.output.out('the rollback window is closed: the monolith stays the system of record');
  else ctx.output.out('no rollback window was recorded in the monolith; nothing else to do');
  return EXIT.OK;
}
