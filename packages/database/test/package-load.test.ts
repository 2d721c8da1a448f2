import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectDistFresh } from './helpers/dist-fresh.ts';
import { createTestDatabase, type TestDatabase } from './helpers/pg.ts';

// The package as a service loads it: plain `node`, no tsx, no loader, from a project that has
// @vendhub/database in its node_modules. dist/ is built by `npm run build` (the workspace's
// postinstall runs it after generating the clients).
const PKG = fileURLToPath(new URL('..', import.meta.url));
const REPO_NODE_MODULES = join(PKG, '..', '..', 'node_modules');

describe('@vendhub/database loaded by plain node', () => {
  let app: string;
  let db: TestDatabase;
  const node = (file: string) =>
    spawnSync(process.execPath, [file], {
      cwd: app,
      encoding: 'utf8',
      timeout: 120_000,
      // exactly this environment: no NODE_OPTIONS (vitest's or a loader's)
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', DATABASE_URL: db.url },
    });

  beforeAll(async () => {
    expect(existsSync(join(PKG, 'dist', 'index.js')), 'dist/ missing: run `npm run build` (npm ci does)').toBe(true);
    expectDistFresh();
    db = await createTestDatabase('pkgload');
    app = mkdtempSync(join(tmpdir(), 'vh-app-'));
    mkdirSync(join(app, 'node_modules', '@vendhub'), { recursive: true });
    symlinkSync(PKG, join(app, 'node_modules', '@vendhub', 'database'));
    writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'app', private: true }));
  });
  afterAll(async () => {
    if (app) rmSync(app, { recursive: true, force: true });
    await db?.drop();
  });

  it('package.json exports are the ones derived from the services (one per service client)', () => {
    const r = spawnSync(process.execPath, [join(PKG, 'scripts', 'package-exports.mjs'), '--check'], { encoding: 'utf8' });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const exportsMap = JSON.parse(r.stdout) as Record<string, unknown>;
    expect(Object.keys(exportsMap)).toEqual(['.', './auth', './inventory', './machines', './shared', './tasks', './monolith', './eslint', './package.json']);
  });

  it('require() from a CommonJS file: clients query, the subpath exports load, the guard names the owner', () => {
    writeFileSync(
      join(app, 'service.cjs'),
      `const vh = require('@vendhub/database');
const { getTasksClient } = require('@vendhub/database/tasks');
(async () => {
  const db = getTasksClient();
  const rows = await db.$queryRawUnsafe('select 41 + 1 as answer');
  let guard;
  try { db.user.findMany(); } catch (e) { guard = { code: e.code, message: e.message, hint: e.hint }; }
  let inTransaction;
  await db.$transaction(async (tx) => { try { await tx.auditLog.create({ data: {} }); } catch (e) { inTransaction = e.code; } });
  await db.close();
  console.log(JSON.stringify({ exports: Object.keys(vh).sort(), same: vh.getTasksClient === getTasksClient, answer: Number(rows[0].answer), guard, inTransaction }));
})().catch((e) => { console.error(e); process.exit(1); });
`,
    );
    const r = node('service.cjs');
    expect(r.stderr).not.toMatch(/Error/);
    expect(r.status).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out.answer).toBe(42);
    expect(out.same).toBe(true);
    expect(out.exports).toEqual(expect.arrayContaining(['getAuthClient', 'createTasksClient', 'SERVICES', 'attachRelated', 'VendhubError', 'EXIT']));
    expect(out.guard.code).toBe('CROSS_SERVICE_MODEL');
    expect(out.guard.message).toContain('User belongs to the auth service');
    expect(out.guard.hint).toContain('getAuthClient().user');
    expect(out.inTransaction).toBe('CROSS_SERVICE_MODEL');
  });

  it('require(\'@vendhub/database/monolith\'): one client over the whole monolith schema; without MONOLITH_DATABASE_URL a clear error', () => {
    writeFileSync(
      join(app, 'monolith.cjs'),
      `const { createMonolithClient } = require('@vendhub/database/monolith');
let missing;
try { createMonolithClient({ env: {} }); } catch (e) { missing = { code: e.code, message: e.message }; }
const prisma = createMonolithClient({ env: { MONOLITH_DATABASE_URL: process.env.DATABASE_URL } });
console.log(JSON.stringify({ missing, models: ['user', 'machine', 'task', 'auditLog', 'transaction'].map((m) => typeof prisma[m]?.findMany) }));
prisma.close().then(() => prisma.close());
`,
    );
    const r = node('monolith.cjs');
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out.missing).toEqual({ code: 'CONFIG_INVALID', message: 'MONOLITH_DATABASE_URL is not set (the monolith\'s database URL)' });
    expect(out.models).toEqual(['function', 'function', 'function', 'function', 'function']);
  });

  it('import from an ES module file', () => {
    writeFileSync(
      join(app, 'service.mjs'),
      `import { getMachinesClient, SERVICES } from '@vendhub/database';
import plugin from '@vendhub/database/eslint';
const db = getMachinesClient();
const [row] = await db.$queryRawUnsafe('select 1 as one');
await db.close();
console.log(JSON.stringify({ services: SERVICES, one: Number(row.one), rule: Object.keys(plugin.rules) }));
`,
    );
    const r = node('service.mjs');
    expect(r.status, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out).toEqual({ services: ['auth', 'machines', 'inventory', 'tasks', 'shared'], one: 1, rule: ['no-cross-service'] });
  });

  it('the .d.ts types type-check a TypeScript consumer (and reject a model of another service)', () => {
    writeFileSync(
      join(app, 'consumer.ts'),
      `import { getTasksClient, type TasksClient } from '@vendhub/database';
const db: TasksClient = getTasksClient();
export const open: Promise<number> = db.task.count({ where: { status: 'ASSIGNED' } });
// @ts-expect-error User belongs to the auth service
export const wrong = db.user;
`,
    );
    writeFileSync(join(app, 'tsconfig.json'), JSON.stringify({ compilerOptions: { module: 'NodeNext', moduleResolution: 'NodeNext', target: 'ES2023', strict: true, noEmit: true, skipLibCheck: true, types: [], typeRoots: [join(REPO_NODE_MODULES, '@types')] }, files: ['consumer.ts'] }));
    const tsc = join(REPO_NODE_MODULES, 'typescript', 'bin', 'tsc');
    const r = spawnSync(process.execPath, [tsc, '-p', join(app, 'tsconfig.json')], { encoding: 'utf8', timeout: 300_000 });
    expect(r.stdout + r.stderr).toBe('');
    expect(r.status).toBe(0);
  });
});
