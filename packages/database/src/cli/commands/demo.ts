import type { Env } from '../../config/database-config.ts';
import { loadDatabaseConfig, type ServiceConfig } from '../../config/database-config.ts';
import { startEmbeddedPostgres, type EmbeddedServer } from '../../demo/embedded-postgres.ts';
import { EXIT } from '../../errors/exit-codes.ts';
import { VendhubError } from '../../errors/vendhub-error.ts';
import { migrateService } from '../../migrate/migrate-service.ts';
import { buildMonolith } from '../../monolith/build-monolith.ts';
import { SERVICES } from '../../services.ts';
import { describePlan } from '../../split/describe-plan.ts';
import { createProgress } from '../../split/progress.ts';
import type { LoadedPlan } from '../../split/load-plan.ts';
import { runSplit, runSplitConnections } from '../../split/run-split.ts';
import { withSplitContext } from '../../split/split-context.ts';
import { buildReport, reportMarkdown, writeReport } from '../../split/split-report.ts';
import { verifySplit } from '../../split/verify-split.ts';
import type { CommandContext } from '../context.ts';
import { printJson } from '../output.ts';

export interface DemoOptions {
  scale: string;
  seed: string;
  topology: string;
  parallel: string;
  reportDir?: string;
}

const TARGET_VARS = ['DATABASE_URL', ...SERVICES.map((s) => `${s.toUpperCase()}_DATABASE_URL`)];

/**
 * The main job end to end. With nothing configured: an embedded PostgreSQL, a generated Supabase-like
 * monolith, targets in the chosen topology. With SOURCE_DATABASE_URL and target URLs: those servers.
 * Then migrate, plan, split, verify and print the report.
 */
export async function demoCommand(o: DemoOptions, ctx: CommandContext): Promise<number> {
  const scale = Number(o.scale);
  const seed = Number(o.seed);
  const parallel = Number(o.parallel);
  if (!(scale > 0 && scale <= 1000)) throw new VendhubError('USAGE', `--scale must be a number from 0 to 1000, got "${o.scale}"`);
  if (!Number.isInteger(seed)) throw new VendhubError('USAGE', `--seed must be a whole number, got "${o.seed}"`);
  if (!['shared', 'per-service', 'mixed'].includes(o.topology)) throw new VendhubError('USAGE', `--topology must be shared, per-service or mixed, got "${o.topology}"`);
  if (!(Number.isInteger(parallel) && parallel >= 1 && parallel <= 32)) throw new VendhubError('USAGE', `--parallel must be 1..32, got "${o.parallel}"`);
  const say = (l: string) => (ctx.json ? ctx.output.err(l) : ctx.output.out(l));
  const configured = Boolean(ctx.env.SOURCE_DATABASE_URL) || TARGET_VARS.some((v) => ctx.env[v]);
  let server: EmbeddedServer | undefined;
  let env: Env = ctx.env;
  try {
    if (!configured) {
      say('No SOURCE_DATABASE_URL or target URLs set: starting an embedded PostgreSQL 15 for the demo.');
      server = await startEmbeddedPostgres();
      await server.createDatabase('vendhub_monolith');
      const targets: Record<string, string> = {};
      if (o.topology === 'shared') {
        await server.createDatabase('vendhub');
        targets.DATABASE_URL = server.url('vendhub');
      } else {
        const own = o.topology === 'per-service' ? SERVICES : (['machines', 'inventory'] as const);
        if (o.topology === 'mixed') {
          await server.createDatabase('vendhub');
          targets.DATABASE_URL = server.url('vendhub');
        }
        for (const s of own) {
          await server.createDatabase(`vendhub_${s}`);
          targets[`${s.toUpperCase()}_DATABASE_URL`] = server.url(`vendhub_${s}`);
        }
      }
      env = { ...ctx.env, SOURCE_DATABASE_URL: server.url('vendhub_monolith'), ...targets };
      say(`Building a Supabase-like monolith (scale ${scale}, seed ${seed})...`);
      const built = await buildMonolith(server.url('vendhub_monolith'), { scale, seed, danglingTransactions: 3 });
      const total = Object.values(built.counts).reduce((a, b) => a + b, 0);
      say(`  ${total.toLocaleString('en-US')} rows in ${Object.keys(built.counts).length} tables in ${(built.durationMs / 1000).toFixed(1)} s (topology: ${o.topology})`);
    }
    const cfg = loadDatabaseConfig(env);
    for (const s of SERVICES) {
      const r = await migrateService(cfg[s] as ServiceConfig);
      say(`migrate ${s}: ${r.applied.length ? `applied ${r.applied.join(', ')}` : 'up to date'} (${r.schema} in ${r.database})`);
    }
    const { run, verify } = await withSplitContext(env, { parallel: runSplitConnections({ parallel }) }, async (sc) => {
      const progress = createProgress(ctx.output);
      let loaded: LoadedPlan | undefined;
      let r;
      try {
        r = await runSplit(sc, {
          parallel, onEvent: progress.listener,
          onPlan: (l) => {
            loaded = l;
            if (!ctx.json) for (const line of describePlan(l.plan, sc)) say(line);
          },
        });
      } finally {
        progress.stop();
      }
      return { run: r, verify: await verifySplit(sc, { parallel }, loaded) };
    });
    const rep = buildReport(run.plan, run, verify);
    const files = o.reportDir ? writeReport(rep, o.reportDir) : undefined;
    if (ctx.json) printJson(ctx.output, { ok: verify.ok, report: rep, files });
    else {
      say('');
      say(reportMarkdown(rep));
      say(`copy ${(run.durationMs / 1000).toFixed(1)} s, verify ${(verify.durationMs / 1000).toFixed(1)} s: ${verify.ok ? 'source and targets are equal' : 'DIFFERENCES FOUND'}`);
      if (files) say(`report written to ${files.markdown} and ${files.json}`);
    }
    return verify.ok ? EXIT.OK : EXIT.VERIFY;
  } finally {
    await server?.stop();
  }
}
