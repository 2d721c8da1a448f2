import { loadDatabaseConfig, type ServiceConfig } from '../../config/database-config.ts';
import { migrateService, type MigrateResult } from '../../migrate/migrate-service.ts';
import { createMigration } from '../../migrate/create-migration.ts';
import type { CommandContext } from '../context.ts';
import { printJson } from '../output.ts';
import { selectServices } from '../select-services.ts';
import { EXIT } from '../../errors/exit-codes.ts';
import { isServiceName } from '../../services.ts';
import { VendhubError } from '../../errors/vendhub-error.ts';

/** `vendhub-db migrate [service|all]`: applies pending migrations, service by service. */
export async function migrateCommand(serviceArg: string | undefined, ctx: CommandContext, o: { prismaDir?: string } = {}): Promise<number> {
  const names = selectServices(serviceArg);
  const cfg = loadDatabaseConfig(ctx.env, { services: names });
  const results: MigrateResult[] = [];
  for (const name of names) {
    const c = cfg[name] as ServiceConfig;
    for (const w of c.warnings) ctx.output.err(`warning: ${w}`);
    const r = await migrateService(c, o.prismaDir ? { prismaDir: o.prismaDir } : {});
    results.push(r);
    if (!ctx.json) {
      ctx.output.out(r.applied.length === 0
        ? `${r.service}: up to date (${r.schema} in ${r.database})`
        : `${r.service}: applied ${r.applied.join(', ')} (${r.schema} in ${r.database})`);
    }
  }
  if (ctx.json) printJson(ctx.output, { ok: true, results });
  return EXIT.OK;
}

/** `vendhub-db new-migration <service> <name>`: writes a migration for schema.prisma changes. */
export async function newMigrationCommand(service: string, name: string, ctx: CommandContext, o: { prismaDir?: string } = {}): Promise<number> {
  if (!isServiceName(service)) throw new VendhubError('USAGE', `unknown service "${service}"`);
  const c = loadDatabaseConfig(ctx.env, { services: [service] })[service] as ServiceConfig;
  const r = await createMigration(service, name, c.direct, c.service.schema, o.prismaDir ? { prismaDir: o.prismaDir } : {});
  if (ctx.json) printJson(ctx.output, { ok: true, ...r });
  else ctx.output.out(`${service}: wrote ${o.prismaDir ?? 'prisma'}/${service}/migrations/${r.created}/migration.sql`);
  return EXIT.OK;
}
