import { Command, CommanderError, Option } from 'commander';
import type { Env } from '../config/database-config.ts';
import { EXIT, EXIT_CODE_HELP } from '../errors/exit-codes.ts';
import { VendhubError } from '../errors/vendhub-error.ts';
import type { CommandContext } from './context.ts';
import { processOutput, reportError, type Output } from './output.ts';
import { registerSplitCommands } from './split-commands.ts';
import { SERVICE_INFO, SERVICES } from '../services.ts';
import { registerServicesCommands } from './services-commands.ts';

const ENV_HELP = `Environment:
  DATABASE_URL                 database for every service without a URL of its own
${wrap(SERVICES.map((s) => SERVICE_INFO[s].urlVar).join(', '), '  ', 70)}
                               a service's own database (option 2, or any mix)
  <SERVICE>_DIRECT_URL, DIRECT_URL
                               direct (non-PgBouncer) URL for migrations and roles
  <SERVICE>_ROLE_PASSWORD      password given to the service's role by \`roles\`
  SOURCE_DATABASE_URL          the monolith to split (split commands)
URL parameters: connection_limit, pool_timeout, connect_timeout (seconds), sslmode
(disable|allow|prefer|require|verify-ca|verify-full), sslrootcert, pgbouncer=true,
statement_timeout (ms), application_name.`;

/** Wraps a comma-separated list at `width` columns, each line indented. */
function wrap(text: string, indent: string, width: number): string {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(' ')) {
    if (line && (line + ' ' + word).length > width) {
      lines.push(indent + line);
      line = word;
    } else line = line ? `${line} ${word}` : word;
  }
  if (line) lines.push(indent + line);
  return lines.join('\n');
}

// Commands are imported when run: a split never loads the Prisma clients, and start-up stays short.

/**
 * Runs the CLI and returns the exit code instead of exiting, so tests and the demo can call it.
 * Only this function turns errors into printed messages and exit codes.
 */
export async function main(argv: string[], env: Env = process.env, output: Output = processOutput): Promise<number> {
  let code: number = EXIT.OK;
  let json = argv.includes('--json');
  const ctx = (): CommandContext => ({ env, output, json });
  const run = (fn: () => Promise<number>) => async () => {
    code = await fn();
  };
  const program = new Command('vendhub-db')
    .description('VendHub per-service databases: migrations, roles, health, and the monolith split')
    .exitOverride()
    .configureOutput({ writeOut: (s) => output.out(s.trimEnd()), writeErr: (s) => output.err(s.trimEnd()) })
    .addHelpText('after', `\n${ENV_HELP}\n\n${EXIT_CODE_HELP}`)
    .showHelpAfterError();
  const jsonOpt = () => new Option('--json', 'machine-readable output');

  program.command('migrate').argument('[service]', `${SERVICES.join(' | ')} | all`, 'all')
    .description("apply pending migrations into each service's own schema (offline, WebAssembly engine)")
    .option('--prisma-dir <dir>', 'prisma folder with <service>/migrations (default: the package\'s own)')
    .addOption(jsonOpt())
    .action((s: string, o: { prismaDir?: string }) => run(async () => (await import('./commands/migrate.ts')).migrateCommand(s, ctx(), o))());
  program.command('status').argument('[service]', 'a service or all', 'all')
    .description('applied, pending, failed and edited (checksum changed) migrations; exit 6 if not current')
    .addOption(jsonOpt())
    .action((s: string) => run(async () => (await import('./commands/status.ts')).statusCommand(s, ctx()))());
  program.command('drift').argument('[service]', 'a service or all', 'all')
    .description('compare schema.prisma, the migrations and the live database; exit 6 on drift')
    .option('--prisma-dir <dir>', 'prisma folder with <service>/schema.prisma and migrations (default: the package\'s own)')
    .addOption(jsonOpt())
    .action((s: string, o: { prismaDir?: string }) => run(async () => (await import('./commands/drift.ts')).driftCommand(s, ctx(), o))());
  program.command('roles').argument('[service]', 'a service or all', 'all')
    .description("provision one login role per service with rights on its own schema only")
    .option('--prefix <prefix>', 'role name prefix', 'vendhub_')
    .option('--lock-databases', 'also revoke CONNECT on service databases from PUBLIC')
    .addOption(jsonOpt())
    .action((s: string, o: { prefix: string; lockDatabases?: boolean }) => run(async () => (await import('./commands/roles.ts')).rolesCommand(s, o, ctx()))());
  program.command('health').argument('[service]', 'a service or all', 'all')
    .description("each client's health: reachable, migrations current, pool counts")
    .addOption(jsonOpt())
    .action((s: string) => run(async () => (await import('./commands/health.ts')).healthCommand(s, ctx()))());
  program.command('new-migration').argument('<service>').argument('<name>', 'lower_snake_case name')
    .description("write a migration for the difference between a service's schema.prisma and its history (needs CREATEDB: a temporary shadow database); exit 2 when there is nothing to write")
    .option('--prisma-dir <dir>', 'prisma folder with <service>/schema.prisma and migrations (default: the package\'s own)')
    .addOption(jsonOpt())
    .action((s: string, n: string, o: { prismaDir?: string }) => run(async () => (await import('./commands/migrate.ts')).newMigrationCommand(s, n, ctx(), o))());
  program.command('service').description('the services, as data').command('add').argument('<name>', 'lower-case letters and digits, e.g. audit')
    .description('add a service: prisma/<name>/schema.prisma (schema <name>_service), its migrations folder, client (create<Name>Client/get<Name>Client, package export), <NAME>_DATABASE_URL, role vendhub_<name>, cache policies; then generate its client')
    .option('--schema <schema>', 'PostgreSQL schema it owns', '')
    .option('--no-generate', 'do not generate the client')
    .addOption(jsonOpt())
    .action((n: string, o: { schema: string; generate: boolean }) => run(async () => (await import('./commands/service.ts')).serviceAddCommand(n, o, ctx()))());
  registerSplitCommands(program, { ctx, run, jsonOpt });
  registerServicesCommands(program, { ctx, run, jsonOpt });

  try {
    await program.parseAsync(argv);
  } catch (e) {
    if (e instanceof CommanderError) {
      if (e.code === 'commander.helpDisplayed' || e.code === 'commander.version' || e.code === 'commander.help') return EXIT.OK;
      return EXIT.USAGE;
    }
    return reportError(e, output, json);
  }
  return code;
}

export { VendhubError };
