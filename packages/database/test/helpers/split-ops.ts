import type { Env } from '../../src/config/database-config.ts';
import * as abortOp from '../../src/follow/abort-follow.ts';
import * as cutoverOp from '../../src/follow/cutover.ts';
import * as followBackOp from '../../src/follow/follow-back.ts';
import * as followerOp from '../../src/follow/follower.ts';
import * as rollbackOp from '../../src/follow/rollback.ts';
import * as windowOp from '../../src/follow/rollback-window.ts';
import * as startOp from '../../src/follow/start-follow-split.ts';
import * as runOp from '../../src/split/run-split.ts';
import { withSplitContext } from '../../src/split/split-context.ts';
import * as verifyOp from '../../src/split/verify-split.ts';

/*
 * The split's operations as a test calls them: each on one context opened and closed by the edge
 * helper (withSplitContext), sized as its CLI command sizes it, exactly what a command does.
 */

/** runSplit on its own context (parallel + index jobs connections). */
export const runSplit = (env: Env, opts: runOp.SplitRunOptions = {}) =>
  withSplitContext(env, { parallel: runOp.runSplitConnections(opts) }, (ctx) => runOp.runSplit(ctx, opts));

/** verifySplit on its own context. */
export const verifySplit = (env: Env, opts: verifyOp.VerifyOptions = {}) =>
  withSplitContext(env, { parallel: opts.parallel ?? 2 }, (ctx) => verifyOp.verifySplit(ctx, opts));

/** startFollowSplit (the copy of `split run --follow`) on its own context. */
export const startFollowSplit = (env: Env, opts: Parameters<typeof startOp.startFollowSplit>[1]) =>
  withSplitContext(env, { parallel: runOp.runSplitConnections(opts) }, (ctx) => startOp.startFollowSplit(ctx, opts));

/** The follower on its own context. */
export const followSource = (env: Env, opts: followerOp.FollowOptions = {}) =>
  withSplitContext(env, { parallel: followerOp.followConnections(opts) }, (ctx) => followerOp.followSource(ctx, opts));

/** cutover on its own context. */
export const cutover = (env: Env, opts: cutoverOp.CutoverOptions = {}) =>
  withSplitContext(env, { parallel: opts.parallel ?? 2 }, (ctx) => cutoverOp.cutover(ctx, opts));

/** follow-back on its own context. */
export const followBack = (env: Env, opts: followBackOp.FollowBackOptions = {}) =>
  withSplitContext(env, { parallel: 6 }, (ctx) => followBackOp.followBack(ctx, opts));

/** rollback on its own context. */
export const rollback = (env: Env, opts: rollbackOp.RollbackOptions = {}) =>
  withSplitContext(env, { parallel: Math.max(6, opts.parallel ?? 2) }, (ctx) => rollbackOp.rollback(ctx, opts));

/** end-rollback-window on its own context. */
export const endRollbackWindow = (env: Env, opts: { readonly slot?: string } = {}) =>
  withSplitContext(env, { parallel: 1 }, (ctx) => windowOp.endRollbackWindow(ctx, opts));

/** abort on its own context. */
export const abortFollow = (env: Env, opts: { readonly slot?: string } = {}) =>
  withSplitContext(env, { parallel: 1 }, (ctx) => abortOp.abortFollow(ctx, opts));
