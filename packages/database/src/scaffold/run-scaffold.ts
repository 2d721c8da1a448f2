import { readFileSync, writeFileSync } from 'node:fs';
import { readTables } from '../catalog/table-catalog.ts';
import { VendhubError } from '../errors/vendhub-error.ts';
import { schemaPath } from '../paths.ts';
import { SERVICE_INFO, SERVICES, type ServiceName } from '../services.ts';
import type { PlanFile } from '../split/plan-file.ts';
import { withDatabase } from '../db/with-database.ts';
import type { SplitContext } from '../split/split-context.ts';
import { allTargetModels } from '../split/target-models.ts';
import { buildScaffold, type ServiceEdit, type SoftReferenceDraft } from './build-scaffold.ts';
import { findUnmapped } from './find-unmapped.ts';
import { proposeOwners, type OwnerProposal } from './propose-owners.ts';
import { readScaffoldCatalog } from './scaffold-catalog.ts';
import { diffDatamodels } from '../migrate/diff-datamodels.ts';
import { appendSoftReferences, applyEdit, formatted, generateClients, writeMigrationFolder } from './write-scaffold.ts';

export interface ScaffoldOptions {
  readonly planFile: PlanFile;
  /** Table → service chosen by the user (--service/--tables or an assignment file). */
  readonly assignments: ReadonlyMap<string, ServiceName>;
  /** False: propose and print only, write nothing. */
  readonly write: boolean;
  /** Regenerate the touched clients after writing (default true). */
  readonly generate?: boolean;
  readonly now?: Date;
}

export interface ScaffoldResult {
  readonly proposals: readonly OwnerProposal[];
  /** Extra columns of mapped tables, as `Model.column → service`. */
  readonly columns: readonly string[];
  readonly notes: readonly string[];
  readonly softReferences: readonly SoftReferenceDraft[];
  /** Per touched service: its schema file and the migration written (when `write`). */
  readonly services: readonly { service: ServiceName; schemaFile: string; migration: string | undefined }[];
  readonly written: boolean;
}

/**
 * `split scaffold`: reads the source catalog, finds what the service schemas miss, proposes an
 * owner per new table, and (with `write`) appends Prisma in the house conventions, the soft
 * references, one migration per touched service, and regenerates those clients. Appends only:
 * existing models keep every line they have; a second run finds nothing left and writes nothing.
 */
export async function runScaffold(ctx: SplitContext, o: ScaffoldOptions): Promise<ScaffoldResult> {
  const sourceSchema = o.planFile.sourceSchema ?? 'public';
  const { sourceTables, catalog } = await withDatabase(ctx, ctx.source, async (c) => ({
    sourceTables: await readTables(c, sourceSchema),
    catalog: await readScaffoldCatalog(c, sourceSchema),
  }));
  const models = allTargetModels();
  const unmapped = findUnmapped(sourceTables, models, o.planFile);
  for (const t of o.assignments.keys()) {
    if (!unmapped.tables.includes(t)) {
      throw new VendhubError('USAGE', `--tables/assignment names ${t}, which is not an unmapped table of ${sourceSchema} (unmapped: ${unmapped.tables.join(', ') || 'none'})`);
    }
  }
  const mappedOwner = new Map<string, ServiceName>([...unmapped.modelOf].map(([t, m]) => [t, m.service]));
  const proposals = proposeOwners(unmapped.tables, sourceTables, mappedOwner, o.assignments);
  const schemaTexts = new Map(SERVICES.map((s) => [s, readFileSync(schemaPath(s), 'utf8')] as const));
  const draft = buildScaffold({ sourceSchema, sourceTables, catalog, models, planFile: o.planFile, unmapped, owners: proposals, schemaTexts });
  const columns = unmapped.columns.map((c) => `${c.model.model}.${c.column} → ${c.model.service}`);
  const base = { proposals, columns, notes: draft.notes, softReferences: draft.softReferences };
  if (draft.problems.length > 0) {
    throw new VendhubError('PLAN_INVALID', `the scaffold cannot write these (${draft.problems.length}):\n  - ${draft.problems.join('\n  - ')}`, {
      details: { problems: draft.problems },
      hint: 'Rename, map or ignore them in a plan file (--plan), then run the scaffold again; nothing was written.',
    });
  }
  const touched = [...draft.edits.keys()].sort((a, b) => SERVICES.indexOf(a) - SERVICES.indexOf(b));
  if (!o.write || touched.length === 0) return { ...base, services: touched.map((s) => ({ service: s, schemaFile: schemaPath(s), migration: undefined })), written: false };
  // Everything is computed before the first write: a failure (invalid Prisma, the engine) leaves
  // the package as it was, and the next run finds the same work to do.
  const now = o.now ?? new Date();
  const after = new Map<ServiceName, string>();
  // One `prisma format` process per touched schema, side by side.
  const texts = await Promise.all(touched.map((s) => formatted(applyEdit(schemaTexts.get(s) as string, draft.edits.get(s) as ServiceEdit))));
  for (const [i, s] of touched.entries()) after.set(s, texts[i] as string);
  const sqls = new Map<ServiceName, string>();
  for (const s of touched) sqls.set(s, await diffDatamodels(ctx.serviceConfigs[s].direct, SERVICE_INFO[s].schema, schemaPath(s), schemaTexts.get(s) as string, after.get(s) as string));
  const services: { service: ServiceName; schemaFile: string; migration: string | undefined }[] = [];
  for (const s of touched) {
    writeFileSync(schemaPath(s), after.get(s) as string);
    services.push({ service: s, schemaFile: schemaPath(s), migration: writeMigrationFolder(s, sqls.get(s) as string, now) });
  }
  appendSoftReferences(draft.softReferences);
  if (o.generate !== false) generateClients(touched);
  return { ...base, services, written: true };
}
