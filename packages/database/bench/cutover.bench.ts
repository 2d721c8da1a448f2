/**
 * npm run bench:cutover — near-zero-downtime split against the offline path, on one generated
 * monolith (scale 100 ≈ 1M telemetry rows, scale 1000 ≈ 10M) in a private wal_level=logical cluster:
 *   online:  a writer does ~200 mixed inserts/updates/deletes per second across every service's
 *            tables during the copy (`split run --follow`), the follow and up to the fence. The
 *            follower verifies in the background (`split follow --background-verify`); once a pass
 *            is clean and the follow ran --follow-seconds more, `cutover` (verify inside the
 *            freeze: only the keys changed since the pass). Reports the write-freeze window with
 *            that verify inside, the keys re-verified at the fence, the lag at the fence; then,
 *            with the source fenced, a full `split verify` (nothing lost) whose time is what the
 *            full verify inside the freeze used to add: the baseline of the ratio.
 *            With --verify after-switch: the previous mode (freeze without verify, verify after).
 *   offline: the same source (a template copy), writers stopped for the whole split + verify
 *            (skipped with --skip-offline, e.g. at scale 1000).
 *
 *   npx tsx bench/cutover.bench.ts [--scale 100] [--rate 200] [--follow-seconds 10] [--parallel 2] [--verify inside|after-switch] [--skip-offline]
 *
 * Needs root (it starts PostgreSQL as the `postgres` OS user) and /usr/lib/postgresql/15/bin.
 */
import { loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import type { PassReport } from '../src/follow/background-verify.ts';
import type { FollowProgress } from '../src/follow/follower.ts';
import { loadDatabaseConfig, type ServiceConfig } from '../src/config/database-config.ts';
import { migrateService } from '../src/migrate/migrate-service.ts';
import { buildMonolith } from '../src/monolith/build-monolith.ts';
import { SERVICES } from '../src/services.ts';
import type { LoadedPlan } from '../src/split/load-plan.ts';
import { runSplit, runSplitConnections } from '../src/split/run-split.ts';
import { withSplitContext } from '../src/split/split-context.ts';
import { verifySplit } from '../src/split/verify-split.ts';
import { startLogicalCluster } from '../test/helpers/logical-cluster.ts';
import { startSourceWriter } from '../test/helpers/source-writer.ts';
import { abortFollow, cutover, followSource, startFollowSplit, verifySplit as verifyOnEnv } from '../test/helpers/split-ops.ts';
import { createTestDatabase, type TestDatabase } from '../test/helpers/pg.ts';

const { values: args } = parseArgs({
  options: {
    scale: { type: 'string', default: '100' },
    rate: { type: 'string', default: '200' },
    'follow-seconds': { type: 'string', default: '10' },
    parallel: { type: 'string', default: '2' },
    verify: { type: 'string', default: 'inside' },
    'skip-offline': { type: 'boolean', default: false },
  },
});
if (args.verify !== 'inside' && args.verify !== 'after-switch') throw new Error(`--verify must be inside or after-switch, got ${args.verify}`);
const inside = args.verify === 'inside';
const scale = Number(args.scale);
const rate = Number(args.rate);
const parallel = Number(args.parallel);
const s = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
const log = (line: string) => console.log(line);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const cluster = await startLogicalCluster();
// Targets on the other server (the tests' PostgreSQL on :5432), as in production.
const created: TestDatabase[] = [];
try {
  const gold = await cluster.createDatabase('gold');
  let t = performance.now();
  await buildMonolith(cluster.url(gold), { scale, seed: 42, danglingTransactions: 0 });
  const rows = await cluster.query<{ n: string }>(`SELECT count(*)::text AS n FROM public."MachineTelemetry"`, [], gold);
  log(`source: scale ${scale}, ${rows[0]?.n} telemetry rows, built in ${s(performance.now() - t)}; load average ${loadavg().map((x) => x.toFixed(1)).join(' ')}`);
  const targets = async (name: string) => {
    const db = await createTestDatabase(`cut_${name}`);
    created.push(db);
    const env = { DATABASE_URL: db.url };
    const cfg = loadDatabaseConfig(env);
    for (const sv of SERVICES) await migrateService(cfg[sv] as ServiceConfig);
    return env;
  };

  // Offline: writers stopped for the whole split and its verify.
  let offline: number | undefined;
  if (!args['skip-offline']) {
    const offSrc = await cluster.createDatabase('offline', gold);
    const offEnv = { ...(await targets('off_t')), SOURCE_DATABASE_URL: cluster.url(offSrc) };
    t = performance.now();
    // As `split run` does: one context, the plan read once for the copy and the verify.
    const offVerify = await withSplitContext(offEnv, { parallel: runSplitConnections({ parallel }) }, async (ctx) => {
      let loaded: LoadedPlan | undefined;
      await runSplit(ctx, { parallel, onPlan: (l) => void (loaded = l) });
      return verifySplit(ctx, { parallel }, loaded);
    });
    offline = performance.now() - t;
    log(`offline: split + verify ${s(offline)} (verify ${offVerify.ok ? 'equal' : 'DIFFERENT'}) = downtime`);
  }

  // Online: writer throughout, copy from the slot's snapshot, follow, cutover.
  const onSrc = await cluster.createDatabase('online', gold);
  const onEnv = { ...(await targets('on_t')), SOURCE_DATABASE_URL: cluster.url(onSrc) };
  const writer = await startSourceWriter(cluster.url(onSrc), rate, 'b');
  try {
    t = performance.now();
    const started = await startFollowSplit(onEnv, { parallel });
    log(`online: copy from the slot's snapshot ${s(performance.now() - t)} (${started.run.rows} rows) while writing ${writer.stats.ops} ops`);
    const stop = new AbortController();
    let lastProgress: FollowProgress | undefined;
    const passes: PassReport[] = [];
    const follower = followSource(onEnv, {
      signal: stop.signal, progressIntervalMs: 1_000, onProgress: (p) => (lastProgress = p),
      ...(inside ? { backgroundVerify: { parallel, everyMs: 3_600_000, onPass: (p: PassReport) => passes.push(p) } } : {}),
    });
    t = performance.now();
    if (inside) {
      while (passes.length === 0 && performance.now() - t < 1_800_000) await sleep(250);
      const p = passes[0];
      log(`online: background verify pass ${p?.status ?? 'NOT FINISHED'} at ${p?.baseLsn} in ${s(p?.durationMs ?? 0)} (applying paused ${p?.pauseMs} ms for the targets' snapshots)${p?.error ? `: ${p.error}` : ''}`);
    }
    await sleep(Number(args['follow-seconds']) * 1000);
    // An operator cuts over once the follower has caught up (lag under a second).
    const deadline = Date.now() + 180_000;
    while (Date.now() < deadline && !(lastProgress && lastProgress.lagSeconds < 1 && lastProgress.queuedChanges < 500)) await sleep(250);
    if (lastProgress) log(`online: following: ${lastProgress.changes} changes applied, ${lastProgress.changesPerSecond}/s, lag ${lastProgress.lagBytes} B / ${lastProgress.lagSeconds.toFixed(2)} s`);
    const opsBefore = writer.stats.ops;
    // inside: `cutover` (verify inside the freeze); after-switch: the freeze ends once the targets
    // hold the fence and sequences are set, verify then compares snapshots taken at the fence.
    let switched = 0;
    const r = await cutover(onEnv, { parallel, verify: inside ? true : 'after-switch', onSwitch: () => void (switched = performance.now()) });
    const f = await follower;
    const ws = await writer.stop();
    log(`online: writer did ${ws.ops} ops (${opsBefore} before the fence, ${ws.refused} refused by the fence, errors ${ws.errors.length}); follower stopped: ${f.reason}`);
    log(`online: lag at fence ${r.lagAtFenceBytes} B; ${r.appliedAfterFence} changes applied inside the freeze; phases ${Object.entries(r.phases).map(([k, v]) => `${k} ${v} ms`).join(', ')}`);
    if (inside) {
      const fv = r.fenceVerify;
      log(`write-freeze window with verify inside (cutover): ${s(r.writeFreezeMs)} (target < 1 s); verify at the fence: ${fv?.mode === 'touched-keys' ? `${fv.keysVerified} keys changed since the background pass${fv.wholeTables.length ? ` + ${fv.wholeTables.join(', ')} in full` : ''}` : `FULL (${fv?.reason})`}, ${r.verify?.ok ? 'equal' : 'DIFFERENT'}`);
      // Nothing lost: the source is fenced, so a full verify now compares the final state; its
      // time is what the full verify inside the freeze used to add (the baseline).
      t = performance.now();
      const full = await verifyOnEnv(onEnv, { parallel });
      const fullMs = performance.now() - t;
      log(`full verify after the cutover (nothing lost check): ${s(fullMs)}, ${full.ok ? 'source and targets equal' : 'DIFFERENT'}, ${full.tables.reduce((n, x) => n + x.targetRows, 0)} target rows`);
      log(`freeze with a full verify inside (before), estimated as freeze - fence verify + full verify: ${s(r.writeFreezeMs - (r.phases.verify ?? 0) + fullMs)}; ratio to now ${((r.writeFreezeMs - (r.phases.verify ?? 0) + fullMs) / r.writeFreezeMs).toFixed(1)}x`);
      if (offline !== undefined) log(`offline downtime / write freeze with verify inside = ${(offline / r.writeFreezeMs).toFixed(1)}x`);
    } else {
      const verifyMs = r.verifyAfterSwitchMs ?? 0;
      log(`write-freeze window (cutover --verify after-switch): ${s(r.writeFreezeMs)} (target < 2 s)`);
      log(`verify after the switch (fence snapshots): ${s(verifyMs)}, ${r.verify?.ok ? 'source and targets equal' : 'DIFFERENT'}, ended ${s(performance.now() - switched)} after the switch`);
      if (offline !== undefined) log(`offline downtime / write freeze = ${(offline / r.writeFreezeMs).toFixed(1)}x`);
    }
    log(`load average at the end ${loadavg().map((x) => x.toFixed(1)).join(' ')}`);
  } finally {
    await writer.stop();
    await abortFollow(onEnv).catch(() => {});
  }
} finally {
  for (const d of created) await d.drop().catch(() => {});
  await cluster.stop();
}
