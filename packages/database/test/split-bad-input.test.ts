import { randomBytes } from 'node:crypto';
import { writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmbeddedPostgres } from '../src/demo/embedded-postgres.ts';
import { runCli, type CliResult } from './helpers/cli.ts';
import { adminQuery, urlFor } from './helpers/pg.ts';
import { buildGolden, migratedTargets, sql, targetRowCount, type Golden } from './helpers/split-fixture.ts';
import type { Topology } from './helpers/topology.ts';

const SECRET = 'Sup3r-Secret-Pw';

/** A source clone altered by `prepare`, migrated empty targets, and the CLI run against them. */
async function attempt(golden: Golden, prepare: (srcUrl: string) => Promise<void>, args: string[] = ['split', 'run', '--no-progress'], envExtra: (src: string, topo: Topology) => Record<string, string> = () => ({})) {
  const src = await golden.clone('bad');
  const topo = await migratedTargets('per-service', 'bad');
  try {
    await prepare(src.url);
    const env = { ...(topo.env as Record<string, string>), SOURCE_DATABASE_URL: src.url, ...envExtra(src.url, topo) };
    const r = await runCli(args, env);
    return { r, written: await targetRowCount(topo) };
  } finally {
    await topo.drop();
    await src.drop();
  }
}

const noSecret = (r: CliResult) => expect(r.stdout + r.stderr).not.toContain(SECRET);

describe('bad input: clear message, documented exit code, targets untouched', () => {
  let golden: Golden;
  const planDir = mkdtempSync(join(tmpdir(), 'vh-plan-'));
  beforeAll(async () => {
    golden = await buildGolden('bad', 0.5, 3, 0);
  });
  afterAll(async () => {
    await golden?.drop();
  });

  it('an unmapped table and an unmapped column: exit 7, all listed at once', async () => {
    const { r, written } = await attempt(golden, async (u) => {
      await sql(u, 'CREATE TABLE public."PromoCode" (id text PRIMARY KEY, code text)');
      await sql(u, 'ALTER TABLE public."Machine" ADD COLUMN "firmware" text');
      await sql(u, 'ALTER TABLE public."User" ADD COLUMN "avatarUrl" text');
    });
    expect(r.code).toBe(7);
    expect(r.stderr).toMatch(/table public\.PromoCode is not mapped to any service and not ignored/);
    expect(r.stderr).toMatch(/column public\.Machine\.firmware is not mapped/);
    expect(r.stderr).toMatch(/column public\.User\.avatarUrl is not mapped/);
    expect(written).toBe(0);
  });

  it('the same, ignored with reasons in a plan file: plan lists them and the run succeeds', async () => {
    const plan = join(planDir, 'ignore.json');
    writeFileSync(plan, JSON.stringify({ ignore: { tables: { PromoCode: 'marketing keeps its own copy' }, columns: { 'Machine.firmware': 'read from the device at runtime' } } }));
    const { r, written } = await attempt(golden, async (u) => {
      await sql(u, 'CREATE TABLE public."PromoCode" (id text PRIMARY KEY, code text)');
      await sql(u, 'ALTER TABLE public."Machine" ADD COLUMN "firmware" text');
    }, ['split', 'run', '--no-progress', '--plan', plan]);
    expect(r.code, r.stderr).toBe(0);
    expect(written).toBeGreaterThan(0);
  });

  it('a type that cannot cast: exit 8 naming table and column', async () => {
    const { r, written } = await attempt(golden, async (u) => {
      await sql(u, 'ALTER TABLE public."Transaction" ALTER COLUMN amount TYPE text');
    });
    expect(r.code).toBe(8);
    expect(r.stderr).toMatch(/\[type\] Transaction → shared\.transactions\.amount: text cannot be cast to double precision/);
    expect(written).toBe(0);
  });

  it('an enum label missing in the target: exit 8 with the label and sample keys', async () => {
    const { r, written } = await attempt(golden, async (u) => {
      await sql(u, `ALTER TYPE "MachineStatus" ADD VALUE 'RETIRED'`);
      await sql(u, `UPDATE "Machine" SET status = 'RETIRED' WHERE id = (SELECT min(id) FROM "Machine")`);
    });
    expect(r.code).toBe(8);
    expect(r.stderr).toMatch(/\[enum-label\] Machine → machines_service\.machines\.status: label\(s\) RETIRED do not exist in the target enum .*\(1 row, e\.g\. id c/);
    expect(written).toBe(0);
  });

  it('NULL headed for NOT NULL, a duplicate for a unique column, an orphan inside a service: exit 8, all three', async () => {
    const { r, written } = await attempt(golden, async (u) => {
      await sql(u, 'ALTER TABLE "Machine" ALTER COLUMN name DROP NOT NULL');
      await sql(u, 'UPDATE "Machine" SET name = NULL WHERE id = (SELECT min(id) FROM "Machine")');
      await sql(u, 'DROP INDEX "InventoryItem_sku_key"');
      await sql(u, `UPDATE "InventoryItem" SET sku = (SELECT min(sku) FROM "InventoryItem") WHERE id = (SELECT max(id) FROM "InventoryItem")`);
      await sql(u, 'ALTER TABLE "MachineTelemetry" DROP CONSTRAINT "MachineTelemetry_machineId_fkey"');
      await sql(u, `UPDATE "MachineTelemetry" SET "machineId" = 'no-such-machine' WHERE id = (SELECT min(id) FROM "MachineTelemetry")`);
    });
    expect(r.code).toBe(8);
    expect(r.stderr).toMatch(/\[not-null\] Machine → machines_service\.machines\.name: NULL in the source, NOT NULL in the target \(1 row/);
    expect(r.stderr).toMatch(/\[unique\] InventoryItem → inventory_service\.inventory_items\.sku: 1 duplicate value/);
    expect(r.stderr).toMatch(/\[orphan\] MachineTelemetry → machines_service\.machine_telemetry\.machine_id: points to a Machine that does not exist/);
    expect(r.stderr).toMatch(/--skip-invalid-rows/);
    expect(written).toBe(0);
  });

  it('--skip-invalid-rows leaves those rows out, reports them, and verifies equal', async () => {
    const { r } = await attempt(golden, async (u) => {
      await sql(u, 'ALTER TABLE "MachineTelemetry" DROP CONSTRAINT "MachineTelemetry_machineId_fkey"');
      await sql(u, `UPDATE "MachineTelemetry" SET "machineId" = 'no-such-machine' WHERE id IN (SELECT id FROM "MachineTelemetry" ORDER BY id LIMIT 2)`);
    }, ['split', 'run', '--no-progress', '--skip-invalid-rows', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const rep = JSON.parse(r.stdout).report;
    expect(rep.run.skippedRows).toHaveLength(1);
    expect(rep.run.skippedRows[0].count).toBe(2);
    expect(rep.verify.ok).toBe(true);
  });

  it('row-level security hiding rows and a missing privilege: exit 8, named', async () => {
    const role = `vh_reader_${randomBytes(3).toString('hex')}`;
    await adminQuery(`CREATE ROLE ${role} LOGIN PASSWORD '${SECRET}'`);
    try {
      const { r, written } = await attempt(golden, async (u) => {
        await sql(u, `GRANT USAGE ON SCHEMA public TO ${role}; GRANT SELECT ON ALL TABLES IN SCHEMA public TO ${role}; REVOKE SELECT ON "Location" FROM ${role}`);
      }, ['split', 'run', '--no-progress'], (src) => ({ SOURCE_DATABASE_URL: urlFor(new URL(src).pathname.slice(1), role, SECRET) }));
      expect(r.code).toBe(8);
      expect(r.stderr).toMatch(/\[privilege\] public\.Location: role vh_reader_\w+ may not SELECT/);
      expect(r.stderr).toMatch(/\[row-level-security\] public\.User: row-level security is enabled/);
      noSecret(r);
      expect(written).toBe(0);
    } finally {
      const dbs = await adminQuery<{ datname: string }>(`SELECT datname FROM pg_database WHERE datname LIKE 'vh_bad_gold%'`);
      for (const d of dbs.rows) await sql(urlFor(d.datname), `DROP OWNED BY ${role}`).catch(() => {});
      await adminQuery(`DROP ROLE IF EXISTS ${role}`);
    }
  });

  it('a target not migrated, and source and target the same database: exit 8', async () => {
    const src = await golden.clone('same');
    try {
      const r = await runCli(['split', 'run', '--no-progress'], { SOURCE_DATABASE_URL: src.url, DATABASE_URL: src.url });
      expect(r.code).toBe(8);
      expect(r.stderr).toMatch(/\[same-database\]/);
      expect(r.stderr).toMatch(/\[not-migrated\] auth_service: service auth is not migrated/);
    } finally {
      await src.drop();
    }
  });

  it('source or target unreachable: exit 4 naming which, no password', async () => {
    const src = await golden.clone('unreach');
    try {
      const down = `postgresql://postgres:${SECRET}@127.0.0.1:1/x?connect_timeout=2`;
      const a = await runCli(['split', 'plan'], { SOURCE_DATABASE_URL: down, DATABASE_URL: src.url });
      expect(a.code).toBe(4);
      expect(a.stderr).toMatch(/source database 127\.0\.0\.1:1\/x \(SOURCE_DATABASE_URL\): cannot connect/);
      noSecret(a);
      const b = await runCli(['split', 'plan'], { SOURCE_DATABASE_URL: src.url, DATABASE_URL: src.url, MACHINES_DATABASE_URL: down });
      expect(b.code).toBe(4);
      expect(b.stderr).toMatch(/target database 127\.0\.0\.1:1\/x \(machines\): cannot connect/);
      noSecret(b);
    } finally {
      await src.drop();
    }
  });

  it('a wrong password (a server that checks passwords): exit 4, the password never shown', async () => {
    const server = await startEmbeddedPostgres();
    try {
      const good = new URL(server.url('postgres'));
      const bad = new URL(good);
      bad.password = SECRET;
      const r = await runCli(['split', 'plan'], { SOURCE_DATABASE_URL: bad.toString(), DATABASE_URL: good.toString() });
      expect(r.code).toBe(4);
      expect(r.stderr).toMatch(/source database .* authentication failed: password authentication failed for user "postgres"/);
      noSecret(r);
      expect(r.stdout + r.stderr).not.toContain(good.password);
    } finally {
      await server.stop();
    }
  });

  it('missing configuration: exit 3 naming SOURCE_DATABASE_URL and the targets', async () => {
    const r = await runCli(['split', 'run']);
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(/SOURCE_DATABASE_URL is not set/);
    expect(r.stderr).toMatch(/AUTH_DATABASE_URL is not set and there is no DATABASE_URL/);
  });

  it('a plan file that is malformed or names what does not exist: exit 7', async () => {
    const broken = join(planDir, 'broken.json');
    writeFileSync(broken, '{ "tables": { ');
    const src = await golden.clone('plan');
    const topo = await migratedTargets('shared', 'badplan');
    try {
      const env = { ...(topo.env as Record<string, string>), SOURCE_DATABASE_URL: src.url };
      const a = await runCli(['split', 'plan', '--plan', broken], env);
      expect(a.code).toBe(7);
      expect(a.stderr).toMatch(/plan file .*broken\.json: .*JSON/);
      const shape = join(planDir, 'shape.json');
      writeFileSync(shape, JSON.stringify({ tables: { Machine: { colums: {} } }, ignore: { columns: { nodot: 'x' } } }));
      const b = await runCli(['split', 'plan', '--plan', shape], env);
      expect(b.code).toBe(7);
      expect(b.stderr).toMatch(/tables\.Machine: Unrecognized key.*colums/);
      expect(b.stderr).toMatch(/ignore\.columns\.nodot: must be "Table\.column"/);
      const names = join(planDir, 'names.json');
      writeFileSync(names, JSON.stringify({ tables: { Gadget: {}, Machine: { columns: { serialNo: { source: 'x' }, code: { source: 'kode' } } } }, ignore: { tables: { Nope: 'gone' } } }));
      const c = await runCli(['split', 'run', '--plan', names, '--no-progress'], env);
      expect(c.code).toBe(7);
      expect(c.stderr).toMatch(/tables\.Gadget names no model/);
      expect(c.stderr).toMatch(/Machine has no field serialNo/);
      expect(c.stderr).toMatch(/Machine\.columns\.code\.source: Machine has no column kode/);
      expect(c.stderr).toMatch(/ignore\.tables\.Nope names no table/);
      expect(await targetRowCount(topo)).toBe(0);
    } finally {
      await topo.drop();
      await src.drop();
    }
  });
});
