import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { VendhubError } from '../errors/vendhub-error.ts';
import { LOCKFILE, LOCKFILE_CONTENT } from '../migrate/migrations-dir.ts';
import { migrationsDir, PACKAGE_ROOT } from '../paths.ts';
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

/**
 * The text as `prisma format` lays it out (the service schemas are kept in its layout), formatted in
 * a temporary file; refuses text Prisma does not accept, before anything is written.
 */
export async function formatted(text: string): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), 'vh-scaffold-'));
  try {
    const file = join(dir, 'schema.prisma');
    writeFileSync(file, text);
    const r = await runPrisma(['format', '--schema', file]);
    if (r.status !== 0) {
      throw new VendhubError('PLAN_INVALID', `the scaffolded schema is not valid Prisma (nothing was written):\n${(r.stdout + r.stderr).trim()}`, {
        hint: 'A source construct the scaffold cannot express: map or ignore that table in a plan file, and report it.',
      });
    }
    return readFileSync(file, 'utf8');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Regenerates the Prisma clients of the given schemas (scripts/generate.mjs). */
export function generateClients(services: readonly string[]): void {
  const r = spawnSync(process.execPath, [join(PACKAGE_ROOT, 'scripts', 'generate.mjs'), ...services], { cwd: PACKAGE_ROOT, encoding: 'utf8' });
  if (r.status !== 0) throw new VendhubError('INTERNAL', `client generation failed for ${services.join(', ')}:\n${(r.stdout + r.stderr).trim()}`);
}

/** Runs the Prisma CLI (no schema engine needed) to its end; asynchronous, so several run side by side. */
function runPrisma(args: string[]): Promise<{ status: number | null; stdout: string; stderr: string }> {
  const require = createRequire(import.meta.url);
  const cli = require.resolve('prisma/build/index.js');
  const stub = process.env.PRISMA_SCHEMA_ENGINE_BINARY || ['/bin/true', '/usr/bin/true'].find(existsSync) || '/bin/true';
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [cli, ...args], {
      cwd: PACKAGE_ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, PRISMA_SCHEMA_ENGINE_BINARY: stub, PRISMA_HIDE_UPDATE_MESSAGE: '1', CHECKPOINT_DISABLE: '1', PRISMA_ENGINES_CHECKSUM_IGNORE_MISSING: '1' },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', (e) => resolve({ status: null, stdout, stderr: `${stderr}${e.message}` }));
    child.on('close', (status) => resolve({ status, stdout, stderr }));
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

/** Writes `<stamp>_scaffold/migration.sql` next to the service's history; undefined when the SQL is empty. */
export function writeMigrationFolder(service: ServiceName, sql: string, now: Date): string | undefined {
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
