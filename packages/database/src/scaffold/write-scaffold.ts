import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import type { PoolConfig } from 'pg';
import { VendhubError } from '../errors/vendhub-error.ts';
import { diffDatamodels } from '../migrate/diff-datamodels.ts';
import { LOCKFILE, LOCKFILE_CONTENT } from '../migrate/migrations-dir.ts';
import { migrationsDir, PACKAGE_ROOT, schemaPath } from '../paths.ts';
import { SOFT_REFERENCES } from '../schema/soft-references.ts';
import type { ServiceName } from '../services.ts';
import type { ScaffoldDraft, ServiceEdit, SoftReferenceDraft } from './build-scaffold.ts';
import { appendToModel } from './schema-text.ts';

export const SOFT_REFERENCES_FILE = join(PACKAGE_ROOT, 'src', 'schema', 'soft-references.ts');

/** A service's schema.prisma text with the scaffold's additions. */
export function applyEdit(text: string, e: ServiceEdit): string {
  let out = text;
  for (const [model, fields] of e.fields) out = appendToModel(out, model, fields, e.attributes.get(model) ?? []);
  for (const [model, attrs] of e.attributes) if (!e.fields.has(model)) out = appendToModel(out, model, [], attrs);
  if (e.blocks.length) out = `${out.replace(/\s*$/, '')}\n\n${e.blocks.join('\n\n')}\n`;
  return out;
}

/** Formats a schema file with `prisma format` (the service schemas are kept in its layout). */
export function prismaFormat(file: string): void {
  const r = runPrisma(['format', '--schema', file]);
  if (r.status !== 0) {
    throw new VendhubError('PLAN_INVALID', `the scaffolded ${file} is not valid Prisma:\n${(r.stdout + r.stderr).trim()}`, {
      hint: 'This is a scaffold bug or a source construct it cannot express: the file is left as written; fix or revert it (git checkout) and report it.',
    });
  }
}

/** Regenerates the Prisma clients of the given schemas (scripts/generate.mjs). */
export function generateClients(services: readonly string[]): void {
  const r = spawnSync(process.execPath, [join(PACKAGE_ROOT, 'scripts', 'generate.mjs'), ...services], { cwd: PACKAGE_ROOT, encoding: 'utf8' });
  if (r.status !== 0) throw new VendhubError('INTERNAL', `client generation failed for ${services.join(', ')}:\n${(r.stdout + r.stderr).trim()}`);
}

function runPrisma(args: string[]) {
  const require = createRequire(import.meta.url);
  const cli = require.resolve('prisma/build/index.js');
  const stub = process.env.PRISMA_SCHEMA_ENGINE_BINARY || ['/bin/true', '/usr/bin/true'].find(existsSync) || '/bin/true';
  return spawnSync(process.execPath, [cli, ...args], {
    cwd: PACKAGE_ROOT,
    encoding: 'utf8',
    env: { ...process.env, PRISMA_SCHEMA_ENGINE_BINARY: stub, PRISMA_HIDE_UPDATE_MESSAGE: '1', CHECKPOINT_DISABLE: '1', PRISMA_ENGINES_CHECKSUM_IGNORE_MISSING: '1' },
  });
}

/** Appends soft-reference entries not yet listed; returns the ones added. */
export function appendSoftReferences(drafts: readonly SoftReferenceDraft[], file = SOFT_REFERENCES_FILE): SoftReferenceDraft[] {
  const known = new Set(SOFT_REFERENCES.map((r) => `${r.from.model}.${r.from.field}`));
  const add = drafts.filter((d) => !known.has(`${d.model}.${d.field}`));
  if (add.length === 0) return [];
  const text = readFileSync(file, 'utf8');
  const end = text.lastIndexOf(']);');
  if (end === -1) throw new VendhubError('INTERNAL', `${file}: no closing "]);" of SOFT_REFERENCES to append to`);
  const q = (s: string) => `'${s}'`;
  const lines = add.map((d) => `  ref(${[q(d.fromService), q(d.model), q(d.field), q(d.toService), q(d.toModel)].join(', ')}${d.toField === 'id' ? '' : `, true, ${q(d.toField)}`}),\n`).join('');
  writeFileSync(file, `${text.slice(0, end)}${lines}${text.slice(end)}`);
  return add;
}

/** The migration for one service's scaffold, written next to its history; undefined when empty. */
export async function writeScaffoldMigration(service: ServiceName, before: string, after: string, pool: PoolConfig, searchPath: string, now: Date): Promise<string | undefined> {
  const sql = await diffDatamodels(pool, searchPath, schemaPath(service), before, after);
  if (!/\S/.test(sql.replace(/^--.*$/gm, ''))) return undefined;
  const folder = `${now.toISOString().replace(/[-:T]/g, '').slice(0, 14)}_scaffold`;
  const dir = migrationsDir(service);
  if (existsSync(join(dir, folder))) throw new VendhubError('USAGE', `migration ${folder} of ${service} exists already; run the scaffold again in a second`);
  mkdirSync(join(dir, folder), { recursive: true });
  writeFileSync(join(dir, folder, 'migration.sql'), sql);
  if (!existsSync(join(dir, LOCKFILE))) writeFileSync(join(dir, LOCKFILE), LOCKFILE_CONTENT);
  return folder;
}

export type { ScaffoldDraft };
