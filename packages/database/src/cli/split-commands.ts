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
    .description('print the mapping: source → service, schema, table, every column; references losing their FK; estimates; then what is not moved (views, functions, triggers, policies, free sequences, extensions, domains, expression/partial indexes, CHECK constraints, generated columns), soft references the source implies but the list lacks, enum label differences, target columns without a source')
    .option('--strict', 'target columns without a source column (not declared {"default": true} in the plan file) are errors (exit 7)')
    .addOption(r.jsonOpt())
    .action((o: SplitCliOptions) => r.run(async () => (await import('./commands/split.ts')).splitPlanCommand(o, r.ctx()))());
  planOpt(split.command('run'))
    .description('preflight, then copy every table from one snapshot of the source, chunk by chunk, then verify')
    .option('--parallel <n>', 'connections per side', '2')
    .option('--chunk-rows <n>', 'rows per chunk (one target transaction and checkpoint each)', '250000')
    .option('--index-jobs <n>', 'connections building indexes and constraints after their tables\' data (default: --parallel)')
    .option('--no-defer-indexes', 'copy into fully indexed tables instead of building indexes and constraints after the data')
    .option('--resume', 'continue an interrupted run: finished chunks are kept, the rest copied')
    .option('--dry-run', 'do everything up to the first write (plan, preflight, snapshot, chunk bounds)')
    .option('--skip-invalid-rows', 'leave out source rows that would break a target constraint (listed in the report)')
    .option('--no-verify', 'skip the verify that follows the copy')
    .option('--no-progress', 'no progress lines')
    .option('--report-dir <dir>', 'also write the report as split-<run>.md and .json there')
    .option('--follow', 'near-zero downtime: copy from a logical slot\'s snapshot, then keep applying the source\'s changes (see `split cutover`)')
    .option('--slot <name>', 'with --follow: replication slot name (publication <name>_pub)', 'vendhub_split')
    .addOption(r.jsonOpt())
    .action(async (o: SplitCliOptions & { follow?: boolean; slot?: string }) => {
      const intr = interruptSignal();
      try {
        if (o.follow) await r.run(async () => (await import('./commands/follow.ts')).splitRunFollowCommand(o, r.ctx(), intr.signal))();
        else await r.run(async () => (await import('./commands/split.ts')).splitRunCommand(o, r.ctx(), intr.signal))();
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
  planOpt(split.command('scaffold'))
    .description('for the tables and columns `split plan` finds unmapped: propose an owner service per table (from the foreign keys), and with --yes write the Prisma models, enums and fields (PascalCase models, camelCase fields; a name differing from the source gets a // vendhub-source comment), soft references, one migration per touched service, and regenerate the clients; what Prisma cannot declare is printed as a note')
    .option('--service <name>', 'owner for the tables named by --tables')
    .option('--tables <list>', 'comma-separated source tables that go to --service')
    .option('--assign <file>', 'JSON object {"Table": "service"} of owners')
    .option('--yes', 'write (without it: print the proposal only)')
    .option('--no-generate', 'do not regenerate the clients')
    .addOption(r.jsonOpt())
    .action((o: import('./commands/scaffold.ts').ScaffoldCliOptions) => r.run(async () => (await import('./commands/scaffold.ts')).splitScaffoldCommand(o, r.ctx()))());
  registerFollowCommands(split, r);
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

/** Runs a long-running command with Ctrl-C / SIGTERM turned into its abort signal. */
async function untilSignal(run: (signal: AbortSignal) => Promise<void>): Promise<void> {
  const ac = new AbortController();
  const stop = () => ac.abort();
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
  try {
    await run(ac.signal);
  } finally {
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
  }
}

/** `split follow|cutover|abort` and the rollback window: the near-zero-downtime path (src/follow). */
function registerFollowCommands(split: Command, r: Registrar): void {
  type O = import('./commands/follow.ts').FollowCliOptions;
  const slotOpt = (c: Command) => c.option('--slot <name>', 'replication slot name (publication <name>_pub)', 'vendhub_split').option('--plan <file>', 'plan file (JSON), the same as for `split run`');
  slotOpt(split.command('follow'))
    .description('apply the source\'s changes to the targets from the slot of `split run --follow`; restart-safe; exit 0 when cutover/abort takes the slot, 130 on Ctrl-C')
    .option('--max-retained-wal <mb>', 'warn when the slot keeps more WAL than this on the source', '1024')
    .option('--background-verify', 'verify source and targets in the background while following (a pass on consistent snapshots, again every --verify-every minutes or after 50,000 changed keys): `cutover` then re-verifies only the keys changed since, inside a short freeze')
    .option('--verify-every <min>', 'with --background-verify: minutes between passes', '10')
    .option('--no-progress', 'no lag/throughput lines')
    .addOption(r.jsonOpt())
    .action((o: O) => untilSignal((signal) => r.run(async () => (await import('./commands/follow.ts')).splitFollowCommand(o, r.ctx(), signal))()));
  slotOpt(split.command('cutover'))
    .description('fence writes on the source, apply up to the fence, verify, set sequences, drop slot and publication; prints the write-freeze window and each service\'s URL')
    .option('--wait-for-writers-stopped', 'do not revoke write grants: the operator has stopped every writer (wait until no write transaction is open)')
    .option('--writers-timeout <s>', 'wait this long for open write transactions to end', '15')
    .option('--catch-up-timeout <s>', 'wait this long for the targets to reach the fence', '300')
    .option('--verify <when>', 'inside: verify within the write freeze, before the switch (only the keys changed since the last clean pass of `split follow --background-verify`; every row when there is none); after-switch: hold snapshots of source and targets at the fence, end the freeze, then verify them while the services already write (a short freeze on large data)', 'inside')
    .option('--no-verify', 'skip verify (sequences are still set)')
    .option('--parallel <n>', 'connections per side for verify', '2')
    .option('--rollback-window', 'afterwards keep the monolith in sync from the targets (a slot on each target database; needs wal_level=logical and REPLICATION there): run `split follow-back`, then `split rollback` or `split end-rollback-window`')
    .addOption(r.jsonOpt())
    .action((o: O) => r.run(async () => (await import('./commands/follow.ts')).splitCutoverCommand(o, r.ctx()))());
  slotOpt(split.command('abort'))
    .description('stop following: drop slot and publication, restore write grants a cutover fence revoked; the source is as before (refused while a rollback window is open)')
    .addOption(r.jsonOpt())
    .action((o: O) => r.run(async () => (await import('./commands/follow.ts')).splitAbortCommand(o, r.ctx()))());
  registerRollbackCommands(split, r);
}

/** `split follow-back|rollback|end-rollback-window`: the rollback window after `cutover --rollback-window`. */
function registerRollbackCommands(split: Command, r: Registrar): void {
  type O = import('./commands/follow.ts').FollowCliOptions;
  const slotOpt = (c: Command) => c.option('--slot <name>', 'the slot of `split run --follow` (the reverse slots on the targets are <name>_back_<first service>)', 'vendhub_split')
    .option('--plan <file>', 'plan file (JSON), the same as for `split run`');
  slotOpt(split.command('follow-back'))
    .description('during the rollback window: apply each target database\'s changes to the monolith (one stream per database); restart-safe; exit 0 when rollback/end-rollback-window takes the slots, 130 on Ctrl-C')
    .option('--max-retained-wal <mb>', 'warn when a reverse slot keeps more WAL than this on its target', '1024')
    .option('--no-progress', 'no lag/throughput lines')
    .addOption(r.jsonOpt())
    .action((o: O) => untilSignal((signal) => r.run(async () => (await import('./commands/rollback.ts')).splitFollowBackCommand(o, r.ctx(), signal))()));
  slotOpt(split.command('rollback'))
    .description('switch back to the monolith: fence writes on the targets, apply their changes up to the fence, verify, set the monolith\'s sequences, restore its write grants, drop the reverse slots; prints the write-freeze window and each service\'s URL; the targets stay read-only')
    .option('--wait-for-writers-stopped', 'do not revoke write grants on the targets: the operator has stopped every service (wait until no write transaction is open)')
    .option('--writers-timeout <s>', 'wait this long for open write transactions to end', '15')
    .option('--catch-up-timeout <s>', 'wait this long for the monolith to reach the fence', '300')
    .option('--no-verify', 'skip verify inside the freeze (sequences are still set)')
    .option('--parallel <n>', 'connections per side for verify', '2')
    .addOption(r.jsonOpt())
    .action((o: O) => r.run(async () => (await import('./commands/rollback.ts')).splitRollbackCommand(o, r.ctx()))());
  slotOpt(split.command('end-rollback-window'))
    .description('close the rollback window: drop the reverse slots and publications on the targets, give back the targets\' write grants a rollback fence revoked, forget the window in the monolith; safe to repeat')
    .addOption(r.jsonOpt())
    .action((o: O) => r.run(async () => (await import('./commands/rollback.ts')).splitEndRollbackWindowCommand(o, r.ctx()))());
}
