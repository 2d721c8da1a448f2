import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildWildMonolith } from './helpers/drifted-monolith-wild.ts';
import { copyPackage, type PackageCopy } from './helpers/package-copy.ts';
import { createTestDatabase, type TestDatabase } from './helpers/pg.ts';
import { sql } from './helpers/split-fixture.ts';
import { enumNameFor, enumValueFor, fieldNameFor, modelNameFor, singularize } from '../src/scaffold/prisma-naming.ts';

/** The model block `name` of a schema text. */
const block = (text: string, kind: 'model' | 'enum', name: string): string => text.match(new RegExp(`^${kind} ${name} \\{[\\s\\S]*?^\\}`, 'm'))?.[0] ?? '';

type VerifyJson = { report: { verify: { ok: boolean; tables: { model: string; sourceRows: number; targetRows: number; ok?: boolean }[] } } };

describe('split scaffold adopts a hand-grown monolith (snake_case and quoted names, keyless tables, domains, generated columns)', () => {
  let src: TestDatabase;
  let tgt: TestDatabase;
  let pkg: PackageCopy;
  beforeAll(async () => {
    src = await createTestDatabase('scfw_src');
    tgt = await createTestDatabase('scfw_tgt');
    await buildWildMonolith(src.url);
    pkg = copyPackage();
  });
  afterAll(async () => {
    pkg?.remove();
    await src?.drop();
    await tgt?.drop();
  });

  it('plan exit 7 → scaffold → migrate → plan exit 0 listing what is not moved → run → verify equal; second scaffold a no-op; typecheck passes', async () => {
    const env = { SOURCE_DATABASE_URL: src.url, DATABASE_URL: tgt.url };
    const plan = await pkg.run(['split', 'plan'], env);
    expect(plan.code, plan.stderr).toBe(7);
    expect(plan.stderr).toContain('table public.Event Log is not mapped to any service');

    const w = await pkg.run(['split', 'scaffold', '--yes', '--service', 'tasks', '--tables', 'routes,route_stops,driver_logs'], env);
    expect(w.code, w.stderr + w.stdout).toBe(0);
    const out = w.stdout;
    expect(out).toContain('public."machine": model name Machine is taken by another model or enum; named MachineRecord');
    expect(out).toContain('public."string": model name String is reserved by Prisma; named StringRecord');
    expect(out).toContain('public."task_priority": model name TaskPriority is taken by another model or enum; named TaskPriorityRecord');
    expect(out).toMatch(/StringRecord: public\."string" has no primary key; the model gets a surrogate key id/);
    expect(out).toMatch(/MachineRecord: public\."machine" has no primary key; its unique NOT NULL column serial identify rows \(no surrogate key\)/);
    expect(out).toMatch(/DriverLog\.phone: domain phone_number written as its base type text; its CHECK .* is not moved/);
    expect(out).toContain('DriverLog.email: citext written as text');
    expect(out).toMatch(/Route: constraint routes_distance_km_check CHECK \(\(distance_km >= \(0\)::numeric\)\): Prisma cannot declare CHECK constraints; not scaffolded/);
    expect(out).toMatch(/Route\.totalCost: generated column \(GENERATED ALWAYS AS .*fuel_cost.*\) STORED\) written as a plain column/);
    expect(out).toMatch(/Route\.docNo: its default takes numbers from the sequence doc_number_seq, which no column owns/);
    expect(out).toMatch(/RouteStop: index route_stops_open_idx uses an expression or a predicate.*WHERE \(state <> 'done'/);
    expect(out).toMatch(/DriverLog: index driver_logs_email_lower_idx .*lower\(\(email\)::text\)/);
    expect(out).toContain('Route.depotId: foreign key routes_depot_id_fkey to legacy."depots" (not moved to any service): kept as a plain column');

    const tasks = readFileSync(join(pkg.root, 'prisma/tasks/schema.prisma'), 'utf8');
    const route = block(tasks, 'model', 'Route');
    expect(route).toContain('// vendhub-source: "routes"');
    expect(route).toMatch(/routeId\s+String\s+@id @default\(dbgenerated\("gen_random_uuid\(\)"\)\) @map\("route_id"\) @db\.Uuid \/\/ vendhub-source: "route_id"/);
    expect(route).toMatch(/\/\/\/ Printed on the route sheet\n\s+code\s+String\s+@unique @db\.VarChar\(16\)/);
    expect(route).toMatch(/state\s+RouteState\s+@default\(in_progress\)/);
    expect(route).toMatch(/legMinutes\s+Int\[\]\s+@map\("leg_minutes"\)/);
    expect(route).toMatch(/distanceKm\s+Decimal\?\s+@map\("distance_km"\) @db\.Decimal\(12, 2\)/);
    expect(route).toMatch(/note\s+String\?\s+@default\("driver's \\"note\\""\)/);
    expect(route).toMatch(/createdAt\s+DateTime\s+@default\(now\(\)\) @map\("created_at"\) @db\.Timestamptz\(3\)/);
    expect(route).toMatch(/parentRoute\s+Route\?\s+@relation\("Route_parentRoute", fields: \[parentRouteId\], references: \[routeId\]/);
    expect(tasks).toMatch(/^\/\/\/ A driver's planned round\n\/\/\/ Scaffolded/m);
    const stop = block(tasks, 'model', 'RouteStop');
    expect(stop).toMatch(/@@id\(\[routeId, stopNo\]\)/);
    expect(stop).toMatch(/kind\s+StopKind\s+@default\(refill\)/);
    const log = block(tasks, 'model', 'DriverLog');
    expect(log).toMatch(/route\s+Route\s+@relation\(fields: \[routeCode\], references: \[code\]/);
    expect(log).toMatch(/routeStop\s+RouteStop\?\s+@relation\(fields: \[routeId, stopNo\], references: \[routeId, stopNo\]/);
    expect(log).toMatch(/userId\s+String\?\s+@map\("user_id"\)\n/);
    expect(log).toMatch(/userId2\s+String\?\s+@map\("user_id2"\) \/\/ vendhub-source: "user_id"/);
    expect(log).toMatch(/payload\s+Json\? \/\/ vendhub-source: "Payload"/);
    expect(log).toMatch(/clientIp\s+String\?\s+@map\("client_ip"\) @db\.Inet/);
    expect(log).toMatch(/photo\s+Bytes\?/);
    expect(block(tasks, 'enum', 'RouteState')).toMatch(/planned\n\s+in_progress @map\("in progress"\)\n\s+on_hold\s+@map\("on-hold"\)\n\s+done\n\n\s+@@map\("route_state"\)/);
    expect(block(tasks, 'enum', 'StopKind')).toMatch(/v24h_check @map\("24h check"\)/);
    const shared = readFileSync(join(pkg.root, 'prisma/shared/schema.prisma'), 'utf8');
    expect(block(shared, 'model', 'EventLog')).toMatch(/eventId Int\s+@id @default\(autoincrement\(\)\) @map\("event_id"\) \/\/ vendhub-source: "Event-Id"/);
    expect(block(shared, 'model', 'EventLog')).toContain('@@map("event_logs")');
    expect(block(shared, 'model', 'MachineRecord')).toMatch(/serial String\s+@unique @db\.VarChar\(40\)/);
    expect(block(shared, 'model', 'MachineRecord')).not.toContain('@id');
    expect(block(shared, 'model', 'TaskPriorityRecord')).toMatch(/code\s+String\s+@id\n\s+weight\s+Int\s+@default\(1\)\n\n\s+@@map\("task_priority"\)/);
    expect(block(shared, 'model', 'StringRecord')).toMatch(/id\s+BigInt\s+@id @default\(autoincrement\(\)\)[\s\S]*@@map\("string"\)/);
    expect(readFileSync(join(pkg.root, 'prisma/machines/schema.prisma'), 'utf8')).toMatch(/installNotes\s+String\?\s+@map\("install_notes"\) \/\/ vendhub-source: "install_notes"/);
    const refs = readFileSync(join(pkg.root, 'src/schema/soft-references.ts'), 'utf8');
    expect(refs).toContain("ref('tasks', 'RouteStop', 'machineId', 'machines', 'Machine'),");
    expect(refs).toContain("ref('tasks', 'Route', 'driverId', 'auth', 'User'),");

    // The typecheck reads only what the scaffold wrote: it runs while the data moves.
    const typecheck = pkg.typecheck();
    expect((await pkg.run(['migrate'], env)).code).toBe(0);
    const p2 = await pkg.run(['split', 'plan'], env);
    expect(p2.code, p2.stderr).toBe(0);
    expect(p2.stdout).toContain('public."Event Log" (~2 rows) → shared.event_logs');
    expect(p2.stdout).toContain('legacy: 1 table (not part of the application schema)');
    expect(p2.stdout).toMatch(/index route_stops_open_idx: on route_stops \(tasks\): an expression or a predicate[^\n]*WHERE/);
    expect(p2.stdout).toMatch(/index driver_logs_email_lower_idx: on driver_logs \(tasks\)/);
    expect(p2.stdout).toMatch(/check constraint routes_distance_km_check: on routes \(tasks\): Prisma cannot declare CHECK constraints[^\n]*CHECK \(\(distance_km >= /);
    expect(p2.stdout).toMatch(/check constraint route_stops_stop_no_check: on route_stops \(tasks\)/);
    expect(p2.stdout).toMatch(/domain phone_number: columns driver_logs\.phone use it \(text CHECK/);
    expect(p2.stdout).toMatch(/generated column routes\.total_cost: tasks: GENERATED ALWAYS AS/);
    expect(p2.stdout).toContain('sequence doc_number_seq: not owned by any column');
    expect(p2.stdout).toContain('shared.string.id (StringRecord.id)');

    const run = await pkg.run(['split', 'run', '--no-progress'], env);
    expect(run.code, run.stderr + run.stdout).toBe(0);
    const verify = await pkg.run(['split', 'verify', '--json'], env);
    expect(verify.code, verify.stderr).toBe(0);
    const v = (JSON.parse(verify.stdout) as VerifyJson).report.verify;
    expect(v.ok).toBe(true);
    const rows = Object.fromEntries(v.tables.map((t) => [t.model, [t.sourceRows, t.targetRows]]));
    expect(rows).toMatchObject({ Route: [4, 4], RouteStop: [12, 12], DriverLog: [12, 12], EventLog: [2, 2], MachineRecord: [3, 3], StringRecord: [3, 3], TaskPriorityRecord: [2, 2] });
    // Values that need care arrive as they were: enum labels with spaces, bytea, inet, arrays, the generated column's values.
    expect(await sql(tgt.url, `SELECT state::text AS s, total_cost::text AS t, tags, leg_minutes FROM tasks_service.routes WHERE code = 'R-1'`))
      .toEqual(await sql(src.url, `SELECT state::text AS s, total_cost::text AS t, tags, leg_minutes FROM public.routes WHERE code = 'R-1'`));
    expect(await sql(tgt.url, `SELECT DISTINCT encode(photo, 'hex') AS p, host(client_ip) AS ip FROM tasks_service.driver_logs WHERE stop_no = 1`)).toEqual([{ p: 'deadbeef', ip: '10.0.0.1' }]);
    // A lost duplicate of the keyless table is found.
    await sql(tgt.url, `DELETE FROM shared.string WHERE id = (SELECT max(id) FROM shared.string WHERE key = 'a')`);
    expect((await pkg.run(['split', 'verify'], env)).code).toBe(10);

    const before = readdirSync(join(pkg.root, 'prisma/tasks/migrations')).join();
    const again = await pkg.run(['split', 'scaffold', '--yes'], env);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout).toContain('Nothing to scaffold');
    expect(readdirSync(join(pkg.root, 'prisma/tasks/migrations')).join()).toBe(before);
    const tc = await typecheck;
    expect(tc.code, tc.stdout + tc.stderr).toBe(0);
  }, 300_000);
});

describe('names for hand-grown source names', () => {
  it('models PascalCase (snake_case singular), fields camelCase, enum values identifiers; valid Prisma identifiers always', () => {
    expect(['route_stops', 'driver_logs', 'Event Log', 'UserSession', 'machine', 'categories', 'boxes', 'status', 'HTTPLogs', '2fa_codes', 'x-y']
      .map(modelNameFor)).toEqual(['RouteStop', 'DriverLog', 'EventLog', 'UserSession', 'Machine', 'Category', 'Box', 'Status', 'HTTPLogs', 'T2faCode', 'XY']);
    expect(['route_id', 'Event-Id', 'Payload', 'userId', 'ID', '1st_value', 'a b', 'HTTPStatus'].map(fieldNameFor))
      .toEqual(['routeId', 'eventId', 'payload', 'userId', 'id', 'c1stValue', 'aB', 'httpStatus']);
    expect(['route_state', 'Stop Kind', 'SessionKind'].map(enumNameFor)).toEqual(['RouteState', 'StopKind', 'SessionKind']);
    expect(['WEB', 'in progress', 'on-hold', '24h check', '-'].map(enumValueFor)).toEqual(['WEB', 'in_progress', 'on_hold', 'v24h_check', 'vempty']);
    expect(['telemetry', 'entries', 'addresses', 'statuses', 'houses', 'bus'].map(singularize)).toEqual(['telemetry', 'entry', 'address', 'status', 'house', 'bus']);
    for (const n of [...['route_stops', 'Event Log', '2fa_codes', 'x-y'].map(modelNameFor), ...['Event-Id', '1st_value'].map(fieldNameFor)]) expect(n).toMatch(/^[A-Za-z][A-Za-z0-9_]*$/);
  });
});
