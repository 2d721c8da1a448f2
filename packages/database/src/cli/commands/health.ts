import { createClient } from '../../clients/create-client.ts';
import type { CommandContext } from '../context.ts';
import { printJson } from '../output.ts';
import { selectServices } from '../select-services.ts';
import { EXIT } from '../../errors/exit-codes.ts';
import type { ServiceHealth } from '../../clients/service-connection.ts';

/** `vendhub-db health`: each client's view: reachable, migrations current, pool counts. */
export async function healthCommand(serviceArg: string | undefined, ctx: CommandContext): Promise<number> {
  const results: ServiceHealth[] = [];
  for (const name of selectServices(serviceArg)) {
    const client = createClient(name, { env: ctx.env });
    try {
      results.push(await client.health());
    } finally {
      await client.close();
    }
  }
  const ok = results.every((r) => r.reachable && r.migrations?.current);
  if (ctx.json) printJson(ctx.output, { ok, results });
  else for (const r of results) {
    ctx.output.out(`${ok ? 'ok  ' : 'FAIL'} ${r.service}: ${r.reachable ? `reachable (${r.latencyMs} ms)` : `unreachable: ${r.error}`}${r.migrations ? `, migrations ${r.migrations.current ? 'current' : `NOT current (pending ${r.migrations.pending.length}, failed ${r.migrations.failed.length})`}` : ''}, pool ${r.pool.total}/${r.pool.max} (${r.pool.idle} idle, ${r.pool.waiting} waiting), cache ${r.cache.status}`);
  }
  return ok ? EXIT.OK : EXIT.CHECK_FAILED;
}
