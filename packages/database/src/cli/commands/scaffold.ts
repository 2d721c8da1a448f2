import { readFileSync } from 'node:fs';
import { relative } from 'node:path';
import { EXIT } from '../../errors/exit-codes.ts';
import { VendhubError } from '../../errors/vendhub-error.ts';
import { PACKAGE_ROOT } from '../../paths.ts';
import { runScaffold } from '../../scaffold/run-scaffold.ts';
import { isServiceName, SERVICES, type ServiceName } from '../../services.ts';
import { loadPlanFile } from '../../split/plan-file.ts';
import { withSplitContext } from '../../split/split-context.ts';
import type { CommandContext } from '../context.ts';
import { printJson } from '../output.ts';

export interface ScaffoldCliOptions {
  plan?: string;
  service?: string;
  tables?: string;
  assign?: string;
  yes?: boolean;
  generate?: boolean;
}

/** The user's owner choices from `--service X --tables A,B` and `--assign file.json` ({"Table": "service"}). */
export function parseAssignments(o: ScaffoldCliOptions): Map<string, ServiceName> {
  const out = new Map<string, ServiceName>();
  const problems: string[] = [];
  const put = (table: string, service: string, where: string) => {
    if (!isServiceName(service)) problems.push(`${where}: unknown service "${service}" for ${table} (services: ${SERVICES.join(', ')})`);
    else out.set(table, service);
  };
  if (o.assign) {
    let raw: unknown;
    try {
      raw = JSON.parse(readFileSync(o.assign, 'utf8'));
    } catch (e) {
      throw new VendhubError('USAGE', `--assign ${o.assign}: ${(e as Error).message}`, { cause: e });
    }
    if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new VendhubError('USAGE', `--assign ${o.assign}: expected a JSON object {"Table": "service"}`);
    for (const [t, s] of Object.entries(raw)) put(t, String(s), `--assign ${o.assign}`);
  }
  if ((o.service === undefined) !== (o.tables === undefined)) problems.push('--service and --tables go together');
  if (o.service !== undefined && o.tables !== undefined) for (const t of o.tables.split(',').map((x) => x.trim()).filter(Boolean)) put(t, o.service, '--service');
  if (problems.length) throw new VendhubError('USAGE', problems.join('\n'));
  return out;
}

/** `vendhub-db split scaffold`: propose owners for what the service schemas miss; with --yes, write it. */
export async function splitScaffoldCommand(o: ScaffoldCliOptions, ctx: CommandContext): Promise<number> {
  const planFile = loadPlanFile(o.plan);
  const assignments = parseAssignments(o);
  const r = await withSplitContext(ctx.env, { parallel: 1 }, (sc) => runScaffold(sc, { planFile, assignments, write: o.yes === true, generate: o.generate !== false }));
  if (ctx.json) {
    printJson(ctx.output, { ok: true, ...r });
    return EXIT.OK;
  }
  const out = (l: string) => ctx.output.out(l);
  if (r.proposals.length === 0 && r.columns.length === 0) {
    out('Nothing to scaffold: every table and column of the source is mapped or ignored.');
    return EXIT.OK;
  }
  if (r.proposals.length) out('New tables and their owner service:');
  for (const p of r.proposals) out(`  ${p.table} → ${p.service}  (${p.reason})`);
  if (r.columns.length) out('Extra columns appended to their models:');
  for (const c of r.columns) out(`  ${c}`);
  if (r.softReferences.length) out('Cross-service references (soft references, checked by `split verify`):');
  for (const s of r.softReferences) out(`  ${s.fromService}.${s.model}.${s.field} → ${s.toService}.${s.toModel}.${s.toField}`);
  for (const n of r.notes) out(`note: ${n}`);
  if (!r.written) {
    out(''); out('Nothing written. Override an owner with --service <name> --tables A,B (or --assign file.json), then run again with --yes to write.');
    return EXIT.OK;
  }
  out(''); out('Written:');
  for (const s of r.services) out(`  ${relative(PACKAGE_ROOT, s.schemaFile)}${s.migration ? ` + prisma/${s.service}/migrations/${s.migration}/migration.sql` : ''}`);
  out(`Next: vendhub-db migrate, then vendhub-db split plan / split run.${o.generate === false ? ' Regenerate the clients with npm run generate.' : ''}`);
  return EXIT.OK;
}
