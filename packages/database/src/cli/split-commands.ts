import type { Command, Option } from 'commander';
import type { SplitCliOptions } from './commands/split.ts';
import type { CommandContext } from './context.ts';

export interface Registrar {
  ctx: () => CommandContext;
  run: (fn: () => Promise<number>) => () => Promise<void>;
  jsonOpt: () => Option;
}

/**
 * Ctrl-C (or SIGTERM) once: stop starting chunks, let those in flight commit, exit 130. Twice: stop
 * at once; uncommitted chunks roll back, so --resume still finds a consistent state.
 */
export function interruptSignal(): { signal: AbortSignal; dispose(): void } {
  const ac = new AbortController();
  const onSignal = () => {
    if (ac.signal.aborted) process.exit(130);
    process.stderr.write('\nstopping at the next chunk boundary (Ctrl-C again to stop now)...\n');
    ac.abort();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  return {
    signal: ac.signal,
    dispose() {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    },
  };
}

/** The split's commands: `split plan|run|verify` and `demo`. */
export function registerSplitCommands(program: Command, r: Registrar): void {
  const split = program.command('split').description('move the monolith (SOURCE_DATABASE_URL) into the per-service layout');
  const planOpt = (c: Command) => c.option('--plan <file>', 'plan file (JSON): renames, expressions, ignored tables/columns, defaults');
  planOpt(split.command('plan'))
    .description('print the mapping: source → service, schema, table, every column; references losing their FK; estimates')
    .addOption(r.jsonOpt())
    .action((o: SplitCliOptions) => r.run(async () => (await import('./commands/split.ts')).splitPlanCommand(o, r.ctx()))());
  planOpt(split.command('run'))
    .description('preflight, then copy every table from one snapshot of the source, chunk by chunk, then verify')
    .option('--parallel <n>', 'connections per side', '2')
    .option('--chunk-rows <n>', 'rows per chunk (one target transaction and checkpoint each)', '100000')
    .option('--resume', 'continue an interrupted run: finished chunks are kept, the rest copied')
    .option('--dry-run', 'do everything up to the first write (plan, preflight, snapshot, chunk bounds)')
    .option('--skip-invalid-rows', 'leave out source rows that would break a target constraint (listed in the report)')
    .option('--no-verify', 'skip the verify that follows the copy')
    .option('--no-progress', 'no progress lines')
    .option('--report-dir <dir>', 'also write the report as split-<run>.md and .json there')
    .addOption(r.jsonOpt())
    .action(async (o: SplitCliOptions) => {
      const intr = interruptSignal();
      try {
        await r.run(async () => (await import('./commands/split.ts')).splitRunCommand(o, r.ctx(), intr.signal))();
      } finally {
        intr.dispose();
      }
    });
  planOpt(split.command('verify'))
    .description('compare source and targets through the mapping (counts, range hashes, differing keys); exit 10 on a difference')
    .option('--parallel <n>', 'connections per side', '2')
    .option('--skip-invalid-rows', 'leave out the rows a --skip-invalid-rows run left out')
    .option('--report-dir <dir>', 'also write the report there')
    .addOption(r.jsonOpt())
    .action((o: SplitCliOptions) => r.run(async () => (await import('./commands/split.ts')).splitVerifyCommand(o, r.ctx()))());
  program.command('demo')
    .description('the whole job on an embedded PostgreSQL (nothing to configure): build a monolith, migrate, plan, split, verify, report; with SOURCE_DATABASE_URL and target URLs set, runs plan, split and verify against them')
    .option('--scale <n>', 'size of the generated monolith (1 ≈ 13k rows, 100 ≈ 1.3M)', '5')
    .option('--seed <n>', 'seed of the generated data', '42')
    .option('--topology <t>', 'shared (option 1), per-service (option 2) or mixed', 'shared')
    .option('--parallel <n>', 'connections per side', '2')
    .option('--report-dir <dir>', 'also write the report there')
    .addOption(r.jsonOpt())
    .action((o: { scale: string; seed: string; topology: string; parallel: string; reportDir?: string }) => r.run(async () => (await import('./commands/demo.ts')).demoCommand(o, r.ctx()))());
}
