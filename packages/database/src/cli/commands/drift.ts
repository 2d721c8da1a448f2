import { loadDatabaseConfig, type ServiceConfig } from '../../config/database-config.ts';
import { driftCheck, type DriftReport } from '../../migrate/drift.ts';
import type { CommandContext } from '../context.ts';
import { printJson } from '../output.ts';
import { selectServices } from '../select-services.ts';
import { EXIT } from '../../errors/exit-codes.ts';

/** `vendhub-db drift`: schema.prisma vs migrations vs the live database; exit 6 on any drift. */
export async function driftCommand(serviceArg: string | undefined, ctx: CommandContext, o: { prismaDir?: string } = {}): Promise<number> {
  const names = selectServices(serviceArg);
  const cfg = loadDatabaseConfig(ctx.env, { services: names });
  const results: DriftReport[] = [];
  for (const name of names) results.push(await driftCheck(cfg[name] as ServiceConfig, o.prismaDir ? { prismaDir: o.prismaDir } : {}));
  const drifted = results.some((r) => r.drifted);
  if (ctx.json) printJson(ctx.output, { ok: !drifted, results });
  else {
    for (const r of results) {
      ctx.output.out(`${r.drifted ? 'DRIFT' : 'ok   '} ${r.service} (${r.schema} in ${r.database})`);
      const show = (label: string, d: DriftReport['schemaVsMigrations']) => {
        for (const f of d.missing) ctx.output.out(`      ${label}: missing ${f}`);
        for (const f of d.extra) ctx.output.out(`      ${label}: extra   ${f}`);
      };
      show('schema.prisma vs migrations (a migration is missing)', r.schemaVsMigrations);
      show('database vs migrations (changed by hand)', r.databaseVsMigrations);
    }
  }
  return drifted ? EXIT.CHECK_FAILED : EXIT.OK;
}
