import { cpSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PRISMA_DIR } from '../src/paths.ts';
import { SERVICES } from '../src/services.ts';
import { runCli, type CliResult } from './helpers/cli.ts';
import { CLUSTER_PASSWORD, startLogicalCluster, type LogicalCluster } from './helpers/logical-cluster.ts';

// A server with passwords (the shadow database is opened with the same credentials), and a copy of
// the prisma folder: the real schemas are never edited by a test.
let cluster: LogicalCluster;
let prismaDir: string;
let db: string;
let env: Record<string, string>;

beforeAll(async () => {
  cluster = await startLogicalCluster();
  db = await cluster.createDatabase('newmig');
  env = { DATABASE_URL: cluster.url(db) };
  prismaDir = join(mkdtempSync(join(tmpdir(), 'vh-prisma-')), 'prisma');
  cpSync(PRISMA_DIR, prismaDir, { recursive: true });
});
afterAll(async () => {
  await cluster?.stop();
  if (prismaDir) rmSync(join(prismaDir, '..'), { recursive: true, force: true });
});

const shadows = async () => (await cluster.query<{ n: number }>(`SELECT count(*)::int AS n FROM pg_database WHERE datname LIKE 'prisma_migrate_shadow_db_%'`))[0]?.n;
const noPassword = (r: CliResult) => expect(r.stdout + r.stderr).not.toContain(CLUSTER_PASSWORD);
const cli = async (args: string[], e = env) => {
  const r = await runCli([...args, '--prisma-dir', prismaDir], e);
  noPassword(r);
  return r;
};

/** Adds `vhNote String?` to the first model of a service's schema (in the copy). */
function addField(service: string): string {
  const file = join(prismaDir, service, 'schema.prisma');
  const text = readFileSync(file, 'utf8');
  const m = /model (\w+) \{\n/.exec(text);
  if (!m) throw new Error(`no model in ${file}`);
  writeFileSync(file, text.replace(m[0], `${m[0]}  vhNote String?\n`));
  return m[1] as string;
}

describe('new-migration on services with history', () => {
  it('nothing changed: exit 2 with a clear message, and no shadow database left', async () => {
    expect((await cli(['migrate'])).code).toBe(0);
    const r = await cli(['new-migration', 'auth', 'nothing']);
    expect(r.code, r.stdout + r.stderr).toBe(2);
    expect(r.stderr).toContain('schema.prisma matches the migrations; there is nothing to write');
    expect(r.stderr).not.toMatch(/\n\s+at /);
    expect(await shadows()).toBe(0);
  });

  it('a role without CREATEDB: exit 8 naming the shadow database, nothing left', async () => {
    await cluster.query(`CREATE ROLE nocreate LOGIN PASSWORD 'n0-cr@te%db' NOCREATEDB`);
    const model = addField('tasks');
    try {
      const r = await cli(['new-migration', 'tasks', 'add_note'], { DATABASE_URL: cluster.url(db, 'nocreate', { password: 'n0-cr@te%db' }) });
      expect(r.code, r.stdout + r.stderr).toBe(8);
      expect(r.stderr).toMatch(/shadow database/);
      expect(r.stderr).toMatch(/CREATEDB/);
      expect(r.stdout + r.stderr).not.toContain('n0-cr@te%db');
      expect(readdirSync(join(prismaDir, 'tasks', 'migrations')).filter((d) => d.endsWith('_add_note'))).toEqual([]);
      expect(await shadows()).toBe(0);
    } finally {
      // Put the schema back for the next test (it adds the field again).
      const file = join(prismaDir, 'tasks', 'schema.prisma');
      writeFileSync(file, readFileSync(file, 'utf8').replace(`model ${model} {\n  vhNote String?\n`, `model ${model} {\n`));
    }
  });

  it('a field added to every service: ALTER TABLE … ADD COLUMN, migrate applies it, drift is current, no shadow database left', async () => {
    for (const s of SERVICES) {
      addField(s);
      const r = await cli(['new-migration', s, 'add_note']);
      expect(r.code, `${s}: ${r.stdout}${r.stderr}`).toBe(0);
      const folder = readdirSync(join(prismaDir, s, 'migrations')).find((d) => d.endsWith('_add_note'));
      expect(folder, s).toBeDefined();
      const sql = readFileSync(join(prismaDir, s, 'migrations', folder as string, 'migration.sql'), 'utf8');
      expect(sql, s).toMatch(/ALTER TABLE "[a-z_]+"\."\w+" ADD COLUMN\s+"vhNote" TEXT/);
      expect(await shadows()).toBe(0);
    }
    const m = await cli(['migrate']);
    expect(m.code, m.stderr).toBe(0);
    for (const s of SERVICES) expect(m.stdout).toMatch(new RegExp(`${s}: applied \\d+_add_note`));
    const cols = await cluster.query<{ n: number }>(`SELECT count(*)::int AS n FROM information_schema.columns WHERE column_name = 'vhNote'`, [], db);
    expect(cols[0]?.n).toBe(SERVICES.length);
    const d = await cli(['drift']);
    expect(d.code, d.stdout + d.stderr).toBe(0);
    expect(await shadows()).toBe(0);
  });
});
