import { loadDatabaseConfig, type ServiceConfig } from '../../config/database-config.ts';
import { provisionRoles } from '../../roles/provision-roles.ts';
import type { CommandContext } from '../context.ts';
import { printJson } from '../output.ts';
import { selectServices } from '../select-services.ts';
import { EXIT } from '../../errors/exit-codes.ts';

/** `vendhub-db roles`: one login role per service, rights on its own schema only. */
export async function rolesCommand(serviceArg: string | undefined, opts: { prefix?: string; lockDatabases?: boolean }, ctx: CommandContext): Promise<number> {
  const names = selectServices(serviceArg);
  const cfg = loadDatabaseConfig(ctx.env, { services: names });
  const results = await provisionRoles(names.map((n) => cfg[n] as ServiceConfig), ctx.env, opts);
  if (ctx.json) printJson(ctx.output, { ok: true, results });
  else {
    for (const r of results) {
      ctx.output.out(`${r.service}: role ${r.role} ${r.created ? 'created' : 'updated'}, rights on ${r.schema} in ${r.database} only${r.passwordSet ? ', password set' : ', no password set (set ' + r.service.toUpperCase() + '_ROLE_PASSWORD)'}`);
    }
  }
  return EXIT.OK;
}
