import { Option, type Command } from 'commander';
import type { ServicesCliOptions } from './commands/services.ts';
import type { Registrar } from './split-commands.ts';

const collect = (v: string, prev: string[] | undefined) => [...(prev ?? []), v];

/** `services check` and `services fix`: moving the services' code onto the per-service clients. */
export function registerServicesCommands(program: Command, r: Registrar): void {
  const services = program.command('services').description("the services' code after the split: find and fix Prisma calls that cross services");
  const common = (c: Command) =>
    c
      .argument('[dir]', 'folder with the services\' code', '.')
      .option('--map <rule>', "path→service rule, repeatable: 'services/<service>/**' (default) or 'apps/telemetry/**=machines'", collect)
      .option('--exclude <glob>', 'leave matching files out (listed as skipped), repeatable', collect)
      .option('--include-generated', 'also analyse backup files and generated code (skipped by default)')
      .option('--client-name <name>', 'a name that holds the shared Prisma client (default prisma, db, tx), repeatable', collect)
      .option('--prisma-dir <dir>', 'folder with <service>/schema.prisma and monolith/schema.prisma (default: this package\'s)');
  common(services.command('check'))
    .description('report every Prisma call that breaks or loses integrity after the split; exit 20 on findings, 21 if a file did not parse')
    .addOption(new Option('--format <format>', 'table | json | sarif (SARIF 2.1.0 for code scanning)').default('table'))
    .addOption(r.jsonOpt())
    .action((dir: string, o: ServicesCliOptions) => r.run(async () => (await import('./commands/services.ts')).servicesCheckCommand(dir, o, r.ctx()))());
  common(services.command('fix'))
    .description("rewrite calls on another service's model to that service's client: a diff by default, --write to apply (idempotent)")
    .option('--write', 'write the changes instead of printing a diff')
    .action((dir: string, o: ServicesCliOptions) => r.run(async () => (await import('./commands/services.ts')).servicesFixCommand(dir, o, r.ctx()))());
}
