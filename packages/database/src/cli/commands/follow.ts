import { EXIT } from '../../errors/exit-codes.ts';
import { VendhubError } from '../../errors/vendhub-error.ts';
import { abortFollow } from '../../follow/abort-follow.ts';
import { cutover, type CutoverResult } from '../../follow/cutover.ts';
import { followConnections, followSource, type FollowOptions, type FollowProgress, type FollowResult } from '../../follow/follower.ts';
import { startFollowSplit } from '../../follow/start-follow-split.ts';
import type { PassReport } from '../../follow/background-verify.ts';
import { loadPlanFile } from '../../split/plan-file.ts';
import { runSplitConnections } from '../../split/run-split.ts';
import { withSplitContext, type SplitContext } from '../../split/split-context.ts';
import { createProgress } from '../../split/progress.ts';
import { buildReport, reportMarkdown } from '../../split/split-report.ts';
import type { CommandContext } from '../context.ts';
import { printJson } from '../output.ts';

export interface FollowCliOptions {
  plan?: string;
  slot?: string;
  parallel?: string;
  chunkRows?: string;
  dryRun?: boolean;
  resume?: boolean;
  skipInvalidRows?: boolean;
  progress?: boolean;
  maxRetainedWal?: string;
  waitForWritersStopped?: boolean;
  writersTimeout?: string;
  catchUpTimeout?: string;
  /** false (--no-verify), or the value of --verify <when>. */
  verify?: boolean | string;
  rollbackWindow?: boolean;
  backgroundVerify?: boolean;
  verifyEvery?: string;
}

export const int = (name: string, v: string | undefined, dflt: number, min: number, max: number): number => {
  if (v === undefined) return dflt;
  if (!/^\d+$/.test(v) || Number(v) < min || Number(v) > max) throw new VendhubError('USAGE', `--${name} must be a whole number from ${min} to ${max}, got "${v}"`);
  return Number(v);
};

export const kb = (n: number) => (n < 1024 * 1024 ? `${(n / 1024).toFixed(1)} kB` : `${(n / 1024 / 1024).toFixed(1)} MB`);

function progressLine(ctx: CommandContext, p: FollowProgress): void {
  ctx.output.err(`follow: applied ${p.appliedLsn}, ${p.changes} changes (${p.changesPerSecond}/s), lag ${kb(p.lagBytes)} / ${p.lagSeconds.toFixed(1)} s, queued ${p.queuedChanges}, slot retains ${kb(p.retainedWalBytes)}`);
  if (p.warning) ctx.output.err(`warning: ${p.warning}`);
}

function passLine(ctx: CommandContext, p: PassReport): void {
  const what = p.status === 'clean' ? 'source and targets equal' : p.status === 'differences'
    ? `DIFFERENCES in ${p.differences.map((d) => `${d.model} (${[...d.missing, ...d.extra, ...d.changed].slice(0, 5).join(', ')})`).join('; ')}: \`split cutover\` refuses until a pass is clean`
    : `failed: ${p.error ?? 'unknown error'} (retried at the next pass)`;
  ctx.output.err(`background verify pass ${p.passId} at ${p.baseLsn ?? '-'}: ${what} (${(p.durationMs / 1000).toFixed(1)} s, applying paused ${p.pauseMs} ms)`);
}

/** `split run --follow`: copy from the slot's snapshot, then keep following until Ctrl-C or cutover. */
export async function splitRunFollowCommand(o: FollowCliOptions, ctx: CommandContext, signal?: AbortSignal): Promise<number> {
  const planFile = loadPlanFile(o.plan);
  const parallel = int('parallel', o.parallel, 2, 1, 32);
  const chunkRows = int('chunk-rows', o.chunkRows, 100_000, 100, 100_000_000);
  const follow = followOptions(o, ctx, signal, planFile);
  const progress = createProgress(ctx.output, o.progress === false ? { tty: false, intervalMs: Number.MAX_SAFE_INTEGER } : {});
  // One context for the copy and the follower after it.
  return withSplitContext(ctx.env, { parallel: Math.max(runSplitConnections({ parallel }), followConnections({})) }, async (sc) => {
    let started;
    try {
      started = await startFollowSplit(sc, {
        planFile, slot: o.slot, parallel, chunkRows,
        dryRun: o.dryRun === true, resume: o.resume === true, skipInvalidRows: o.skipInvalidRows === true, ...(signal ? { signal } : {}), onEvent: progress.listener,
      });
    } finally {
      progress.stop();
    }
    if (!ctx.json) ctx.output.out(reportMarkdown(buildReport(started.run.plan, started.run, undefined)));
    if (started.run.dryRun) {
      if (ctx.json) printJson(ctx.output, { ok: true, dryRun: true, run: started.run });
      return EXIT.OK;
    }
    ctx.output.err(`copied from the snapshot of slot ${started.slot} (consistent point ${started.consistentPoint}); following changes now. Ctrl-C stops (resume with \`split follow\`); \`split cutover\` finishes.`);
    return followAndReport(sc, follow, ctx);
  });
}

/** `split follow`: (re)start following the slot; exit 0 when cutover or abort took it, 130 on Ctrl-C. */
export async function splitFollowCommand(o: FollowCliOptions, ctx: CommandContext, signal?: AbortSignal): Promise<number> {
  const follow = followOptions(o, ctx, signal);
  return withSplitContext(ctx.env, { parallel: followConnections(follow) }, (sc) => followAndReport(sc, follow, ctx));
}

/** The follower's options from the command line (checked before any connection opens). */
function followOptions(o: FollowCliOptions, ctx: CommandContext, signal?: AbortSignal, planFile = loadPlanFile(o.plan)): FollowOptions {
  return {
    planFile, ...(o.slot ? { slot: o.slot } : {}), ...(signal ? { signal } : {}),
    maxRetainedWalBytes: int('max-retained-wal-mb', o.maxRetainedWal, 1024, 1, 10_000_000) * 1024 * 1024,
    ...(o.progress === false ? {} : { onProgress: (p: FollowProgress) => progressLine(ctx, p) }),
    ...(o.backgroundVerify ? { backgroundVerify: { everyMs: int('verify-every', o.verifyEvery, 10, 1, 100_000) * 60_000, onPass: (p: PassReport) => passLine(ctx, p) } } : {}),
  };
}

async function followAndReport(sc: SplitContext, follow: FollowOptions, ctx: CommandContext): Promise<number> {
  const r: FollowResult = await followSource(sc, follow);
  if (ctx.json) printJson(ctx.output, { ok: true, follow: r });
  else ctx.output.out(`follow stopped (${r.reason}): applied up to ${r.appliedLsn}, ${r.transactions} transactions, ${r.changes} changes, ${r.skipped} already applied`);
  if (r.reason === 'interrupted') {
    ctx.output.err('interrupted: run `vendhub-db split follow` to continue where every target stopped');
    return EXIT.INTERRUPTED;
  }
  return EXIT.OK;
}

/** `--verify <when>` / `--no-verify` of `split cutover`. */
function verifyWhen(v: boolean | string | undefined): boolean | 'after-switch' {
  if (v === undefined || v === true || v === 'inside') return true;
  if (v === false) return false;
  if (v === 'after-switch') return 'after-switch';
  throw new VendhubError('USAGE', `--verify must be "inside" or "after-switch", got "${v}"`);
}

/** `split cutover`: fence, catch up, verify, sequences, drop slot; prints the freeze window and each service's URL. */
export async function splitCutoverCommand(o: FollowCliOptions, ctx: CommandContext): Promise<number> {
  const verify = verifyWhen(o.verify);
  const planFile = loadPlanFile(o.plan);
  const parallel = int('parallel', o.parallel, 2, 1, 32);
  const r = await withSplitContext(ctx.env, { parallel }, (sc) => cutover(sc, {
    planFile, ...(o.slot ? { slot: o.slot } : {}), fence: o.waitForWritersStopped ? 'wait' : 'revoke',
    writersTimeoutMs: int('writers-timeout', o.writersTimeout, 15, 0, 86_400) * 1000, catchUpTimeoutMs: int('catch-up-timeout', o.catchUpTimeout, 300, 1, 86_400) * 1000,
    verify, parallel, rollbackWindow: o.rollbackWindow === true,
    onPhase: (name, ms) => { if (!ctx.json) ctx.output.err(`cutover: ${name} ${ms} ms`); },
    onSwitch: (s) => {
      if (ctx.json) return;
      printSwitch(ctx, s);
      ctx.output.out('switch the services now; verifying the source and the targets as they were at the fence ...');
    },
  }));
  if (ctx.json) {
    printJson(ctx.output, { ok: true, cutover: { ...r, verify: r.verify ? { ok: r.verify.ok, tables: r.verify.tables.length } : undefined } });
    return EXIT.OK;
  }
  if (r.verified === 'after-switch') {
    ctx.output.out(`verify after the switch: ${r.verify?.tables.length} tables equal at the fence (${((r.verifyAfterSwitchMs ?? 0) / 1000).toFixed(2)} s, outside the freeze)`);
    return EXIT.OK;
  }
  printSwitch(ctx, r);
  return EXIT.OK;
}

function printSwitch(ctx: CommandContext, r: CutoverResult): void {
  ctx.output.out(`write freeze: ${(r.writeFreezeMs / 1000).toFixed(2)} s (${Object.entries(r.phases).map(([k, v]) => `${k} ${v} ms`).join(', ')})`);
  ctx.output.out(`fence at ${r.fenceLsn} (${r.fence === 'revoke' ? `${r.revoked.length} write grants revoked` : 'writers stopped by the operator'}); lag at the fence ${kb(r.lagAtFenceBytes)}; ${r.appliedAfterFence} changes applied while frozen`);
  if (r.fenceVerify?.mode === 'touched-keys') ctx.output.out(`verify inside the freeze: ${r.fenceVerify.keysVerified} keys changed since the background pass re-verified${r.fenceVerify.wholeTables.length ? `, ${r.fenceVerify.wholeTables.join(', ')} in full` : ''}: equal (pass ${r.fenceVerify.passes.map((p) => `${p.passId} at ${p.baseLsn}`).join(', ')})`);
  else if (r.verify) ctx.output.out(`verify: ${r.verify.tables.length} tables equal${r.fenceVerify?.reason ? ` (full verify: ${r.fenceVerify.reason})` : ''}`);
  else if (r.verified === 'no') ctx.output.out('verify: skipped (--no-verify)');
  ctx.output.out('the targets are the system of record now; set in each service:');
  for (const l of r.environment) ctx.output.out(`  ${l}`);
  if (r.rollbackWindow) {
    ctx.output.out(`rollback window open: ${r.rollbackWindow.map((w) => `slot ${w.slot} on ${w.target}`).join('; ')}`);
    ctx.output.out('the monolith stays read-only and follows the targets while `vendhub-db split follow-back` runs (start it now);');
    ctx.output.out('`split rollback` switches back without losing writes, `split end-rollback-window` closes the window');
  }
}

/** `split abort`: drop slot and publication, give back fenced write grants; the source is as before. */
export async function splitAbortCommand(o: FollowCliOptions, ctx: CommandContext): Promise<number> {
  const r = await withSplitContext(ctx.env, { parallel: 1 }, (sc) => abortFollow(sc, o.slot ? { slot: o.slot } : {}));
  if (ctx.json) printJson(ctx.output, { ok: true, abort: r });
  else {
    ctx.output.out(`slot ${r.slotDropped ? 'dropped' : 'absent'}, publication ${r.publicationDropped ? 'dropped' : 'absent'}, ${r.restored.length} write grants restored`);
    if (r.wasCutOver) ctx.output.err('warning: the targets had been cut over; writes made there since are not in the source');
  }
  return EXIT.OK;
}
