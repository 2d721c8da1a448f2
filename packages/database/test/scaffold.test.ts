import { createHash } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { proposeOwners } from '../src/scaffold/propose-owners.ts';
import { parseAssignments } from '../src/cli/commands/scaffold.ts';
import { pluralize, tableNameFor } from '../src/scaffold/prisma-naming.ts';
import { buildDriftedMonolith } from './helpers/drifted-monolith.ts';
import { copyPackage, type PackageCopy } from './helpers/package-copy.ts';
import { adminQuery, createTestDatabase, urlFor, type TestDatabase } from './helpers/pg.ts';
import { sql } from './helpers/split-fixture.ts';
import type { ColumnInfo, TableInfo } from '../src/catalog/table-catalog.ts';
import { prismaDefault } from '../src/scaffold/prisma-default.ts';
import { prismaColumnType } from '../src/scaffold/prisma-column-type.ts';

const REPO_PACKAGE = fileURLToPath(new URL('..', import.meta.url));

/** A hash of every file under a folder: proves "nothing written". */
function treeHash(dir: string): string {
  const h = createHash('sha256');
  const walk = (d: string) => {
    for (const name of readdirSync(d).sort()) {
      const p = join(d, name);
      if (statSync(p).isDirectory()) walk(p);
      else h.update(p).update(readFileSync(p));
    }
  };
  walk(dir);
  return h.digest('hex');
}

describe('split scaffold adopts a drifted monolith', () => {
  let golden: TestDatabase;
  let pkg: PackageCopy;
  const repoBefore = { prisma: '', schemaDir: '' };
  beforeAll(async () => {
    repoBefore.prisma = treeHash(join(REPO_PACKAGE, 'prisma'));
    repoBefore.schemaDir = treeHash(join(REPO_PACKAGE, 'src', 'schema'));
    golden = await createTestDatabase('scf_gold');
    await buildDriftedMonolith(golden.url);
    pkg = copyPackage();
  });
  afterAll(async () => {
    pkg?.remove();
    await golden?.drop();
  });
  const clone = async (p: string): Promise<TestDatabase> => {
    const name = `${golden.name}_${p}`;
    await adminQuery(`CREATE DATABASE "${name}" TEMPLATE "${golden.name}"`);
    return { name, url: urlFor(name), drop: async () => { await adminQuery(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`); } };
  };

  it('plan exit 7 → scaffold → migrate → run → verify equal; typecheck passes; a second scaffold is a no-op', async () => {
    const src = await clone('e2e');
    const tgt = await createTestDatabase('scf_tgt');
    try {
      const env = { SOURCE_DATABASE_URL: src.url, DATABASE_URL: tgt.url };
      const plan = await pkg.run(['split', 'plan'], env);
      expect(plan.code, plan.stderr).toBe(7);
      expect(plan.stderr).toContain('table public.RouteStop is not mapped to any service');
      expect(plan.stderr).toContain('column public.Machine.lastServicedById is not mapped');

      // Without --yes: the proposal with its reasons, nothing written.
      const before = treeHash(join(pkg.root, 'prisma'));
      const dry = await pkg.run(['split', 'scaffold'], env);
      expect(dry.code, dry.stderr).toBe(0);
      expect(dry.stdout).toMatch(/UserSession → auth {2}\(references User \(userId\)/);
      expect(dry.stdout).toMatch(/RecipeIngredient → inventory {2}\(references InventoryItem/);
      expect(dry.stdout).toMatch(/Recipe → inventory {2}\(referenced by RecipeIngredient\.recipeId/);
      expect(dry.stdout).toContain('Nothing written');
      expect(treeHash(join(pkg.root, 'prisma'))).toBe(before);

      const w = await pkg.run(['split', 'scaffold', '--yes', '--service', 'tasks', '--tables', 'Route,RouteStop,DriverLog'], env);
      expect(w.code, w.stderr + w.stdout).toBe(0);
      expect(w.stdout).toMatch(/Route → tasks {2}\(assigned/);
      const tasks = readFileSync(join(pkg.root, 'prisma/tasks/schema.prisma'), 'utf8');
      expect(tasks).toMatch(/model RouteStop \{[\s\S]*routeId\s+String\s+@map\("route_id"\) @db\.Uuid[\s\S]*route\s+Route\s+@relation\(fields: \[routeId\], references: \[id\], onDelete: Cascade/);
      expect(tasks).toMatch(/model DriverLog \{[\s\S]*id\s+BigInt\s+@id @default\(autoincrement\(\)\)/);
      expect(tasks).toMatch(/@@unique\(\[routeId, position\]\)\s+@@index\(\[machineId\]\)\s+@@map\("route_stops"\)\s+@@schema\("tasks_service"\)/);
      // The hand-written Task keeps its lines and gains the column and the in-service relation.
      expect(tasks).toMatch(/model Task \{[\s\S]*actions\s+TaskAction\[\]\s+routeId\s+String\?\s+@map\("route_id"\) @db\.Uuid\s+route\s+Route\?/);
      const machines = readFileSync(join(pkg.root, 'prisma/machines/schema.prisma'), 'utf8');
      expect(machines).toMatch(/\/\/\/ Soft reference to auth_service\.users\.id\.\s+lastServicedById\s+String\?\s+@map\("last_serviced_by_id"\)/);
      expect(machines).toMatch(/connectivity\s+MachineConnectivity\s+@default\(WIFI\)/);
      const auth = readFileSync(join(pkg.root, 'prisma/auth/schema.prisma'), 'utf8');
      expect(auth).toMatch(/grantedRole\s+UserRole\?\s+@map\("granted_role"\)/);
      expect(auth.match(/^enum UserRole \{/gm)).toHaveLength(1);
      const refs = readFileSync(join(pkg.root, 'src/schema/soft-references.ts'), 'utf8');
      expect(refs).toContain("ref('tasks', 'RouteStop', 'machineId', 'machines', 'Machine'),");
      expect(refs).toContain("ref('machines', 'Machine', 'lastServicedById', 'auth', 'User'),");
      for (const s of ['auth', 'machines', 'inventory', 'tasks']) {
        expect(readdirSync(join(pkg.root, 'prisma', s, 'migrations')).filter((d) => d.endsWith('_scaffold')), s).toHaveLength(1);
      }
      expect(readdirSync(join(pkg.root, 'prisma/shared/migrations')).some((d) => d.endsWith('_scaffold'))).toBe(false);

      // The clients were regenerated: the new models and columns exist in the generated code.
      expect(readdirSync(join(pkg.root, 'src/generated/tasks/models'))).toEqual(expect.arrayContaining(['DriverLog.ts', 'RouteStop.ts', 'Route.ts']));
      expect(readFileSync(join(pkg.root, 'src/generated/tasks/models/Task.ts'), 'utf8')).toContain('routeId');
      expect(readFileSync(join(pkg.root, 'src/generated/machines/models/Machine.ts'), 'utf8')).toContain('lastServicedById');

      // The typecheck reads what the scaffold wrote; it runs while the data moves (migrate, run and verify
      // write nothing under src/ or prisma/, and the files are edited below only after it is awaited).
      const typecheck = pkg.typecheck();
      const mig = await pkg.run(['migrate'], env);
      expect(mig.code, mig.stderr).toBe(0);
      const plan2 = await pkg.run(['split', 'plan'], env);
      expect(plan2.code, plan2.stderr).toBe(0);
      const run = await pkg.run(['split', 'run', '--no-progress'], env);
      expect(run.code, run.stderr + run.stdout).toBe(0);
      const verify = await pkg.run(['split', 'verify', '--json'], env);
      expect(verify.code, verify.stderr).toBe(0);
      const v = (JSON.parse(verify.stdout) as { report: { verify: { ok: boolean; tables: { model: string; sourceRows: number; targetRows: number }[]; softReferences: { reference: string; danglingRows: number }[] } } }).report.verify;
      expect(v.ok).toBe(true);
      expect(v.tables.find((t) => t.model === 'DriverLog')).toMatchObject({ sourceRows: 5, targetRows: 5 });
      expect(v.tables.find((t) => t.model === 'RouteStop')).toMatchObject({ sourceRows: 20, targetRows: 20 });
      expect(v.softReferences.map((r) => r.reference)).toContain('RouteStop.machineId → Machine.id');

      // The table without a primary key is still compared row by row: a lost duplicate is found.
      await sql(tgt.url, `DELETE FROM tasks_service.driver_logs WHERE id = (SELECT max(id) FROM tasks_service.driver_logs)`);
      const v2 = await pkg.run(['split', 'verify'], env);
      expect(v2.code).toBe(10);

      const snapshot = treeHash(join(pkg.root, 'prisma')) + treeHash(join(pkg.root, 'src'));
      const again = await pkg.run(['split', 'scaffold', '--yes'], env);
      expect(again.code, again.stderr).toBe(0);
      expect(again.stdout).toContain('Nothing to scaffold');
      expect(treeHash(join(pkg.root, 'prisma')) + treeHash(join(pkg.root, 'src'))).toBe(snapshot);

      const tc = await typecheck;
      expect(tc.code, tc.stdout + tc.stderr).toBe(0);

      // Nothing silent: objects not moved, derived soft references, enum labels, unsourced target columns.
      const p3 = await pkg.run(['split', 'plan'], env);
      expect(p3.code, p3.stderr).toBe(0);
      expect(p3.stdout).toContain('view ActiveMachine: reads Machine, all in machines: recreate it there');
      expect(p3.stdout).toContain('function machine_count(): functions are not copied');
      expect(p3.stdout).toContain('policy Staff read their own profile: row-level security policy on User (auth)');
      expect(p3.stdout).toMatch(/cross services after the mapping: 12, all in src\/schema\/soft-references\.ts/);
      expect(p3.stdout).toMatch(/Target columns with no source column[^\n]*: 1, 1 not declared[^\n]*\n {2}tasks_service\.driver_logs\.id \(DriverLog\.id\)/);
      const strict = await pkg.run(['split', 'plan', '--strict'], env);
      expect(strict.code).toBe(7);
      expect(strict.stderr).toContain('--strict: 1 target column has no source column:\n  - tasks_service.driver_logs.id (DriverLog.id)');
      const planFile = join(pkg.root, 'plan.json');
      writeFileSync(planFile, JSON.stringify({ tables: { DriverLog: { columns: { id: { default: true } } } } }));
      expect((await pkg.run(['split', 'plan', '--strict', '--plan', planFile], env)).code).toBe(0);
      const refsFile = join(pkg.root, 'src/schema/soft-references.ts');
      writeFileSync(refsFile, readFileSync(refsFile, 'utf8').replace("  ref('tasks', 'RouteStop', 'machineId', 'machines', 'Machine'),\n", ''));
      await sql(src.url, `ALTER TYPE "MachineConnectivity" ADD VALUE 'SATELLITE'`);
      const p4 = await pkg.run(['split', 'plan'], env);
      expect(p4.stdout).toContain('12, 1 missing from src/schema/soft-references.ts');
      expect(p4.stdout).toContain('missing: tasks.RouteStop.machineId → machines.Machine.id (foreign key RouteStop_machineId_fkey)');
      expect(p4.stdout).toContain('Machine.connectivity: label SATELLITE of the source type "MachineConnectivity" missing in machines_service.machine_connectivity');
      // The repository's own schemas and soft references were never touched.
      expect(treeHash(join(REPO_PACKAGE, 'prisma'))).toBe(repoBefore.prisma);
      expect(treeHash(join(REPO_PACKAGE, 'src', 'schema'))).toBe(repoBefore.schemaDir);
    } finally {
      await tgt.drop();
      await src.drop();
    }
  }, 900_000);

  it('refuses to scaffold against a hand-written enum whose labels differ, naming the label, and writes nothing', async () => {
    const src = await clone('enum');
    const tgt = await createTestDatabase('scf_tgt2');
    const fresh = copyPackage();
    try {
      await sql(src.url, `ALTER TYPE "UserRole" ADD VALUE 'AUDITOR'`);
      const before = treeHash(join(fresh.root, 'prisma')) + treeHash(join(fresh.root, 'src'));
      const r = await fresh.run(['split', 'scaffold', '--yes'], { SOURCE_DATABASE_URL: src.url, DATABASE_URL: tgt.url });
      expect(r.code).toBe(7);
      expect(r.stderr).toContain('enum UserRole of service auth differs from the source type public."UserRole": label AUDITOR missing in the service');
      expect(treeHash(join(fresh.root, 'prisma')) + treeHash(join(fresh.root, 'src'))).toBe(before);
    } finally {
      fresh.remove();
      await tgt.drop();
      await src.drop();
    }
  }, 300_000);

  it('a sixth service added with one command takes new tables through scaffold, migrate, roles, health, split and verify in a database of its own', async () => {
    const src = await clone('sixth');
    const main = await createTestDatabase('scf_main');
    const auditDb = await createTestDatabase('scf_audit');
    const six = copyPackage();
    const prefix = `vh_${Math.random().toString(36).slice(2, 8)}_`;
    try {
      const add = await six.run(['service', 'add', 'audit']);
      expect(add.code, add.stderr).toBe(0);
      expect(add.stdout).toContain('service audit: schema audit_service, AUDIT_DATABASE_URL (else DATABASE_URL), role vendhub_audit');
      for (const f of ['prisma/audit/schema.prisma', 'prisma/audit/migrations/migration_lock.toml', 'src/clients/audit.client.ts', 'src/generated/audit/client.ts']) {
        expect(statSync(join(six.root, f)).isFile(), f).toBe(true);
      }
      expect(readFileSync(join(six.root, 'src/clients/service-clients.ts'), 'utf8')).toContain('audit: createAuditClient,');
      expect(readFileSync(join(six.root, 'src/clients/cache-policies.ts'), 'utf8')).toMatch(/ {2}audit: \{\},\n\};/);
      expect(JSON.parse(readFileSync(join(six.root, 'package.json'), 'utf8')).exports['./audit']).toBe('./src/clients/audit.client.ts');
      const again = await six.run(['service', 'add', 'audit']);
      expect(again.code).toBe(2);
      expect(again.stderr).toContain('service "audit" exists already');

      const env = { SOURCE_DATABASE_URL: src.url, DATABASE_URL: main.url, AUDIT_DATABASE_URL: auditDb.url, AUDIT_ROLE_PASSWORD: 'p@ss%word' };
      // The rest of the drift (scaffolded into the five services by the test above) is left out, so
      // only the audit schema is formatted, migrated and generated here.
      const planFile = join(six.root, 'audit-plan.json');
      writeFileSync(planFile, JSON.stringify({ ignore: {
        tables: { Recipe: 'other test', RecipeIngredient: 'other test', Route: 'other test', RouteStop: 'other test' },
        columns: { 'Machine.firmwareVersion': 'other test', 'Machine.connectivity': 'other test', 'Machine.lastServicedById': 'other test', 'Task.routeId': 'other test' },
      } }));
      const sc = await six.run(['split', 'scaffold', '--yes', '--plan', planFile, '--service', 'audit', '--tables', 'DriverLog,UserSession'], env);
      expect(sc.code, sc.stderr + sc.stdout).toBe(0);
      expect(sc.stdout).toContain('audit.UserSession.userId → auth.User.id');
      expect(readdirSync(join(six.root, 'prisma/audit/migrations')).filter((d) => d.endsWith('_scaffold'))).toHaveLength(1);
      const typecheck = six.typecheck(); // over what the scaffold wrote, while the data moves
      const mig = await six.run(['migrate'], env);
      expect(mig.code, mig.stderr).toBe(0);
      expect(mig.stdout).toMatch(/audit: applied \d+_scaffold \(audit_service in [^)]*vh_scf_audit/);
      const roles = await six.run(['roles', 'audit', '--prefix', prefix], env);
      expect(roles.code, roles.stderr).toBe(0);
      expect(roles.stdout).toContain(`role ${prefix}audit created, rights on audit_service`);
      const health = await six.run(['health', 'audit'], env);
      expect(health.code, health.stderr + health.stdout).toBe(0);
      expect(health.stdout).toMatch(/ok +audit: reachable .*migrations current/);
      const run = await six.run(['split', 'run', '--no-progress', '--plan', planFile], env);
      expect(run.code, run.stderr + run.stdout).toBe(0);
      const verify = await six.run(['split', 'verify', '--plan', planFile], env);
      expect(verify.code, verify.stderr).toBe(0);
      expect(verify.stdout).toContain('| public.UserSession | audit | audit_service.user_sessions | 8 | 8 |');
      expect(verify.stdout).toContain('| UserSession.userId → User.id | 0 |');
      expect(await sql(auditDb.url, 'SELECT count(*)::int AS n FROM audit_service.driver_logs')).toEqual([{ n: 5 }]);
      expect(await sql(main.url, `SELECT count(*)::int AS n FROM information_schema.schemata WHERE schema_name = 'audit_service'`)).toEqual([{ n: 0 }]);
      const tc = await typecheck;
      expect(tc.code, tc.stdout + tc.stderr).toBe(0);
    } finally {
      six.remove();
      await src.drop();
      await main.drop();
      await auditDb.drop();
      await adminQuery(`DROP ROLE IF EXISTS "${prefix}audit"`).catch(() => {});
    }
  }, 900_000);

  it('names relations when a table references a model twice or itself, and writes a one-to-one back relation', async () => {
    const src = await createTestDatabase('scf_edge');
    const edge = copyPackage();
    try {
      await sql(src.url, `CREATE TABLE "User" (id text PRIMARY KEY);
        CREATE TABLE "Category" (id serial PRIMARY KEY, "parentId" int REFERENCES "Category"(id), name text NOT NULL);
        CREATE TABLE "Message" (id text PRIMARY KEY, "senderId" text NOT NULL REFERENCES "User"(id), "recipientId" text REFERENCES "User"(id),
                                "categoryId" int REFERENCES "Category"(id), body text NOT NULL);
        CREATE TABLE "Profile" ("userId" text PRIMARY KEY REFERENCES "User"(id) ON DELETE CASCADE, bio text)`);
      const r = await edge.run(['split', 'scaffold', '--yes', '--no-generate', '--service', 'auth', '--tables', 'Category,Message,Profile'], { SOURCE_DATABASE_URL: src.url, DATABASE_URL: src.url });
      expect(r.code, r.stderr).toBe(0);
      const auth = readFileSync(join(edge.root, 'prisma/auth/schema.prisma'), 'utf8');
      expect(auth).toMatch(/sender\s+User\s+@relation\("Message_sender", fields: \[senderId\]/);
      expect(auth).toMatch(/recipient\s+User\?\s+@relation\("Message_recipient", fields: \[recipientId\]/);
      expect(auth).toMatch(/messagesAsSender\s+Message\[\]\s+@relation\("Message_sender"\)/);
      expect(auth).toMatch(/parent\s+Category\?\s+@relation\("Category_parent", fields: \[parentId\]/);
      expect(auth).toMatch(/categoriesAsParent\s+Category\[\]\s+@relation\("Category_parent"\)/);
      expect(auth).toMatch(/profile\s+Profile\?\n/);
      expect(auth).toMatch(/userId\s+String\s+@id @map\("user_id"\)/);
      const sqlText = readFileSync(join(edge.root, 'prisma/auth/migrations', readdirSync(join(edge.root, 'prisma/auth/migrations')).find((d) => d.endsWith('_scaffold')) as string, 'migration.sql'), 'utf8');
      expect(sqlText).toContain('REFERENCES "auth_service"."categories"("id")');
      expect(sqlText).toContain('"profiles_user_id_fkey" FOREIGN KEY ("user_id") REFERENCES "auth_service"."users"("id") ON DELETE CASCADE');
    } finally {
      edge.remove();
      await src.drop();
    }
  });

  it('--tables naming a mapped or unknown table is refused', async () => {
    const src = await clone('bad');
    try {
      const r = await pkg.run(['split', 'scaffold', '--service', 'auth', '--tables', 'User'], { SOURCE_DATABASE_URL: src.url, DATABASE_URL: src.url });
      expect(r.code).toBe(2);
      expect(r.stderr).toContain('names User, which is not an unmapped table');
      const s = await pkg.run(['split', 'scaffold', '--service', 'billing', '--tables', 'Route'], { SOURCE_DATABASE_URL: src.url, DATABASE_URL: src.url });
      expect(s.code).toBe(2);
      expect(s.stderr).toContain('unknown service "billing" for Route');
    } finally {
      await src.drop();
    }
  });
});

describe('owner proposals and names', () => {
  const table = (name: string, fks: [string, string][]): TableInfo => ({
    schema: 'public', name, columns: [], primaryKey: ['id'], uniques: [], rowSecurity: false, forceRowSecurity: false, owner: 'x', estimate: 0, sizeBytes: 0,
    foreignKeys: fks.map(([col, ref]) => ({ name: `${name}_${col}_fkey`, columns: [col], refSchema: 'public', refTable: ref, refColumns: ['id'] })),
  });

  it('decides tables that only touch new tables in later rounds, and says why', () => {
    const tables = new Map([
      ['User', table('User', [])], ['Machine', table('Machine', [])],
      ['Stop', table('Stop', [['routeId', 'Route'], ['machineId', 'Machine']])],
      ['Route', table('Route', [])],
      ['Lonely', table('Lonely', [])],
      ['Ping', table('Ping', [['machineId', 'Machine'], ['userId', 'User'], ['byId', 'User']])],
    ]);
    const owners = new Map([['User', 'auth'], ['Machine', 'machines']] as const);
    const p = proposeOwners(['Stop', 'Route', 'Lonely', 'Ping'], tables, owners, new Map());
    const by = Object.fromEntries(p.map((x) => [x.table, x]));
    expect(by.Stop?.service).toBe('machines');
    expect(by.Route?.service).toBe('machines');
    expect(by.Route?.reason).toContain('referenced by Stop.routeId');
    expect(by.Lonely).toMatchObject({ service: 'shared', assigned: false });
    expect(by.Ping?.service).toBe('auth');
    expect(by.Ping?.reason).toContain('auth: 2, machines: 1');
    const forced = proposeOwners(['Stop', 'Route'], tables, owners, new Map([['Route', 'tasks']]));
    expect(forced.find((x) => x.table === 'Route')).toMatchObject({ service: 'tasks', assigned: true });
  });

  it('reads owners from --service/--tables and an assignment file, listing every bad entry', () => {
    const file = join(mkdtempSync(join(tmpdir(), 'vh-assign-')), 'owners.json');
    writeFileSync(file, JSON.stringify({ Route: 'tasks', Recipe: 'kitchen' }));
    expect(() => parseAssignments({ assign: file, service: 'auth', tables: 'UserSession' })).toThrow(/unknown service "kitchen" for Recipe/);
    writeFileSync(file, JSON.stringify({ Route: 'tasks' }));
    expect([...parseAssignments({ assign: file, service: 'auth', tables: 'UserSession, DriverLog' })]).toEqual([['Route', 'tasks'], ['UserSession', 'auth'], ['DriverLog', 'auth']]);
    expect(() => parseAssignments({ tables: 'Route' })).toThrow('--service and --tables go together');
    writeFileSync(file, '["Route"]');
    expect(() => parseAssignments({ assign: file })).toThrow(/expected a JSON object/);
  });

  it('turns source defaults and types into Prisma attributes that migrate back to the same column', () => {
    const col = (type: string, extra: Partial<ColumnInfo> = {}): ColumnInfo => ({
      name: 'c', type, baseType: type.replace(/\[\]$/, ''), typeOid: 25, isArray: type.endsWith('[]'), enumLabels: undefined,
      notNull: true, hasDefault: true, identity: false, sequence: undefined, ...extra,
    });
    const d = (expr: string | undefined, c: ColumnInfo) => prismaDefault(expr, c, prismaColumnType(c));
    expect(d(`'it''s "x"'::text`, col('text'))).toBe('@default("it\'s \\"x\\"")');
    expect(d(`'{}'::jsonb`, col('jsonb'))).toBe('@default("{}")');
    expect(d(`(-1)`, col('integer'))).toBe('@default(-1)');
    expect(d(`'2.50'::numeric`, col('numeric(10,2)'))).toBe('@default(2.50)');
    expect(d(`nextval('"Recipe_id_seq"'::regclass)`, col('integer'))).toBe('@default(autoincrement())');
    expect(d(undefined, col('bigint', { identity: true }))).toBe('@default(autoincrement())');
    expect(d('CURRENT_TIMESTAMP', col('timestamp(3) without time zone'))).toBe('@default(now())');
    expect(d(`'{}'::text[]`, col('text[]'))).toBe('@default([])');
    expect(d(`'WEB'::"SessionKind"`, col('"SessionKind"', { baseType: 'SessionKind', enumLabels: ['WEB'] }))).toBe('@default(WEB)');
    expect(d('gen_random_uuid()', col('uuid'))).toBe('@default(dbgenerated("gen_random_uuid()"))');
    expect(d(`lower('X'::text)`, col('text'))).toBe('@default(dbgenerated("lower(\'X\'::text)"))');
    expect(prismaColumnType(col('character varying(32)'))).toMatchObject({ type: 'String', native: '@db.VarChar(32)' });
    expect(prismaColumnType(col('timestamp(6) with time zone'))).toMatchObject({ type: 'DateTime', native: '@db.Timestamptz(6)' });
    expect(prismaColumnType(col('tsvector'))).toMatchObject({ type: 'Unsupported("tsvector")' });
  });

  it('names tables the way the service schemas do', () => {
    expect(tableNameFor('UserSession')).toBe('user_sessions');
    expect(tableNameFor('MachineTelemetry')).toBe('machine_telemetry');
    expect(tableNameFor('ServiceHistory')).toBe('service_history');
    expect(tableNameFor('RecipeIngredient')).toBe('recipe_ingredients');
    expect(tableNameFor('DeliveryBatch')).toBe('delivery_batches');
    expect(tableNameFor('Category')).toBe('categories');
    expect(pluralize('status')).toBe('status');
  });
});
