import { EXIT } from '../../errors/exit-codes.ts';
import { addService } from '../../service-admin/add-service.ts';
import { generateClients } from '../../scaffold/write-scaffold.ts';
import type { CommandContext } from '../context.ts';
import { printJson } from '../output.ts';

/** `vendhub-db service add <name>`: a new service, as data, and its generated client. */
export async function serviceAddCommand(name: string, o: { schema?: string; generate?: boolean }, ctx: CommandContext): Promise<number> {
  const r = addService(name, o.schema || undefined);
  if (o.generate !== false) generateClients([name]);
  if (ctx.json) {
    printJson(ctx.output, { ok: true, ...r });
    return EXIT.OK;
  }
  ctx.output.out(`service ${r.service}: schema ${r.schema}, ${r.urlVar} (else DATABASE_URL), role ${r.role}`);
  for (const f of r.files) ctx.output.out(`  wrote ${f}`);
  ctx.output.out(`Next: vendhub-db split scaffold --service ${r.service} --tables ... --yes (or add models by hand), then vendhub-db migrate ${r.service}.`);
  return EXIT.OK;
}
