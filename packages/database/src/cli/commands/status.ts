import { loadDatabaseConfig, type ServiceConfig } from '../../config/database-config.ts';
import { migrationStatus, type MigrationStatus } from '../../migrate/migration-status.ts';
import type { CommandContext } from '../context.ts';
import { printJson } from '../output.ts';
import { selectServices } from '../select-services.ts';
import { EXIT } from '../../errors/exit-codes.ts';

/** `vendhub-db status`: exit 0 when every selected service is current, 6 otherwise. */
export async function statusCommand(serviceArg: string | undefined, ctx: CommandContext): Promise<number> {
  const names = selectServices(serviceArg);
  const cfg = loadDatabaseConfig(ctx.env, { services: names });
  const results: MigrationStatus[] = [];
  for (const name of names) results.push(await migrationStatus(cfg[name] as ServiceConfig));
  const current = results.every((r) => r.current);
  if (ctx.json) printJson(ctx.output, { ok: current, results });
  else {
    for (const r of results) {
      const parts = [`${r.applied.length} applied`];
      if (r.pending.length) parts.push(`pending: ${r.pending.join(', ')}`);
      if (r.failed.length) parts.push(`FAILED: ${r.failed.join(', ')}`);
      if (r.checksumChanged.length) parts.push(`EDITED after apply (checksum changed): ${r.checksumChanged.join(', ')}`);
      if (r.unknown.length) parts.push(`in database but not on disk: ${r.unknown.join(', ')}`);
      ctx.output.out(`${r.current ? 'ok  ' : 'FAIL'} ${r.service} (${r.schema} in ${r.database}): ${parts.join('; ')}`);
    }
  }
  return current ? EXIT.OK : EXIT.CHECK_FAILED;
}
