import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkExpression, loadExpressionParser } from '../src/split/plan-expression.ts';
import { narrowing } from '../src/split/type-compat.ts';
import { runCli } from './helpers/cli.ts';
import { buildGolden, migratedTargets, sql, targetRowCount, type Golden } from './helpers/split-fixture.ts';

const planDir = mkdtempSync(join(tmpdir(), 'vh-hostile-'));
const planFile = (name: string, body: unknown) => {
  const p = join(planDir, name);
  writeFileSync(p, JSON.stringify(body));
  return p;
};

/** The whole source, schema and data, as pg_dump writes it: equal digests mean byte-for-byte equal. */
function dumpDigest(url: string): string {
  const out = execFileSync('pg_dump', ['--no-owner', '--no-privileges', url], { maxBuffer: 512 * 1024 * 1024 }).toString('utf8');
  // pg_dump 15.14+ wraps its output in \restrict <random key> ... \unrestrict <key>: not data.
  return createHash('sha256').update(out.replace(/^\\(un)?restrict .*$/gm, '')).digest('hex');
}

describe('plan-file expressions are parsed, one read-only expression each', () => {
  beforeAll(async () => {
    await loadExpressionParser();
  });

  it.each([
    [`1); DROP TABLE public."Transaction"; SELECT (1`, /statements/],
    [`1) FROM "Transaction" WHERE (true`, /not a query/],
    [`1) UNION SELECT (2`, /not a query/],
    [`1), (2`, /2 values/],
    [`(WITH d AS (DELETE FROM "Transaction" RETURNING 1) SELECT 1)`, /DELETE/],
    [`(SELECT 1 FROM "Transaction" FOR UPDATE)`, /FOR UPDATE/],
    [`pg_terminate_backend(pg_backend_pid())`, /pg_terminate_backend/],
    [`nextval('"Transaction_id_seq"')`, /nextval/],
    [`set_config('transaction_read_only', 'off', true)`, /set_config/],
    [`'{}'::jsonb -- swallow the parenthesis`, /not one SQL expression/],
    [`1 /* unterminated`, /not one SQL expression/],
  ])('%s is refused', (expr, reason) => {
    const r = checkExpression(expr);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.reason).toMatch(reason);
  });

  it('column references come from the parse, not from words inside strings', () => {
    expect(checkExpression(`'machine without a name'`)).toEqual({ ok: true, columns: [] });
    expect(checkExpression(`coalesce("name", 'x')`)).toEqual({ ok: true, columns: ['name'] });
    expect(checkExpression(`s.name || ' (' || code || ')'`)).toEqual({ ok: true, columns: ['name', 'code'] });
    const sub = checkExpression(`(SELECT l.name FROM "Location" l WHERE l.id = "locationId")`);
    expect(sub).toEqual({ ok: true, columns: ['locationId'] });
  });
});

describe('narrowing mappings are named', () => {
  it.each([
    ['timestamp', 'timestamp(6) without time zone', 'timestamp', 'timestamp(3) without time zone', /3 fractional digits of 6/],
    ['timestamp', 'timestamp without time zone', 'timestamp', 'timestamp(0) without time zone', /0 fractional digits of 6/],
    ['timestamptz', 'timestamp with time zone', 'timestamp', 'timestamp(3) without time zone', /drops the time zone/],
    ['numeric', 'numeric(12,4)', 'numeric', 'numeric(12,2)', /scale 2 \(from 4\)/],
    ['numeric', 'numeric(12,2)', 'numeric', 'numeric(8,2)', /6 integer digits of 10/],
    ['numeric', 'numeric', 'numeric', 'numeric(10,2)', /rounds/],
    ['numeric', 'numeric(10,2)', 'float8', 'double precision', /15 significant digits/],
    ['varchar', 'character varying(100)', 'varchar', 'character varying(10)', /at most 10 characters of 100/],
    ['text', 'text', 'varchar', 'character varying(10)', /at most 10 characters/],
  ])('%s %s → %s %s', (sb, st, tb, tt, re) => {
    expect(narrowing({ baseType: sb, type: st, enumLabels: undefined }, { baseType: tb, type: tt, enumLabels: undefined })).toMatch(re);
  });

  it.each([
    ['timestamp', 'timestamp(3) without time zone', 'timestamp', 'timestamp(6) without time zone'],
    ['timestamp', 'timestamp(3) without time zone', 'timestamp', 'timestamp(3) without time zone'],
    ['numeric', 'numeric(10,2)', 'numeric', 'numeric(12,4)'],
    ['int4', 'integer', 'int8', 'bigint'],
    ['varchar', 'character varying(10)', 'text', 'text'],
    ['float8', 'double precision', 'float8', 'double precision'],
  ])('%s %s → %s %s keeps every value', (sb, st, tb, tt) => {
    expect(narrowing({ baseType: sb, type: st, enumLabels: undefined }, { baseType: tb, type: tt, enumLabels: undefined })).toBeUndefined();
  });
});

describe('a hostile plan file against a live source', () => {
  let golden: Golden;
  beforeAll(async () => {
    golden = await buildGolden('hostile', 0.2, 9, 0);
  }, 120_000);
  afterAll(async () => {
    await golden?.drop();
  });

  it('statement separators, queries, writes and side effects: exit 7, each named, the source byte-for-byte untouched', async () => {
    const src = await golden.clone('h7');
    const topo = await migratedTargets('shared', 'h7');
    try {
      const env = { ...(topo.env as Record<string, string>), SOURCE_DATABASE_URL: src.url };
      const before = dumpDigest(src.url);
      const plan = planFile('hostile.json', {
        tables: {
          Machine: { columns: {
            metadata: { expression: `1); DROP TABLE public."Transaction"; SELECT (1` },
            type: { expression: `1) FROM "Transaction" WHERE (true` },
            code: { expression: `(WITH d AS (DELETE FROM "Transaction" RETURNING 1) SELECT 'x')` },
          } },
          Location: { columns: {
            address: { expression: `(SELECT 'x' FROM "Transaction" FOR UPDATE LIMIT 1)` },
            name: { expression: `pg_terminate_backend(pg_backend_pid())::text` },
          } },
          Task: { columns: { description: { expression: `'x' -- ` } } },
        },
      });
      for (const args of [['split', 'run', '--dry-run', '--no-progress', '--plan', plan], ['split', 'run', '--no-progress', '--plan', plan, '--json']]) {
        const r = await runCli(args, env);
        expect(r.code, r.stderr).toBe(7);
        const out = r.stdout + r.stderr;
        for (const f of ['Machine.columns.metadata', 'Machine.columns.type', 'Machine.columns.code', 'Location.columns.address', 'Location.columns.name', 'Task.columns.description']) {
          expect(out).toContain(`tables.${f}.expression`);
        }
      }
      expect(await sql(src.url, `SELECT count(*)::int AS n FROM "Transaction"`)).toEqual([{ n: expect.any(Number) }]);
      expect(dumpDigest(src.url)).toBe(before);
      expect(await targetRowCount(topo)).toBe(0);
    } finally {
      await topo.drop();
      await src.drop();
    }
  }, 180_000);

  it('an expression calling a source function that writes: the read-only preflight stops it, exit 8, source untouched', async () => {
    const src = await golden.clone('h8');
    const topo = await migratedTargets('shared', 'h8');
    try {
      await sql(src.url, `CREATE FUNCTION vh_evil() RETURNS jsonb LANGUAGE plpgsql AS $$ BEGIN DELETE FROM "Transaction"; RETURN '{}'; END $$`);
      const env = { ...(topo.env as Record<string, string>), SOURCE_DATABASE_URL: src.url };
      const before = dumpDigest(src.url);
      const plan = planFile('evil.json', { tables: { Machine: { columns: { metadata: { expression: 'vh_evil()' } } } }, ignore: { columns: { 'Machine.metadata': 'replaced by an expression' } } });
      const r = await runCli(['split', 'run', '--dry-run', '--no-progress', '--plan', plan], env);
      expect(r.code, r.stderr).toBe(8);
      expect(r.stderr).toMatch(/\[expression\] Machine → machines_service\.machines\.metadata: .*read-only transaction/);
      expect(dumpDigest(src.url)).toBe(before);
      // One that writes only on the table's last row, past the few rows the probe evaluates: the
      // NOT NULL scan reaches it, still inside the read-only transaction.
      await sql(src.url, `CREATE FUNCTION vh_evil_late(k text) RETURNS jsonb LANGUAGE plpgsql AS $$ BEGIN
        IF k = (SELECT id FROM "MachineTelemetry" ORDER BY ctid DESC LIMIT 1) THEN DELETE FROM "Transaction"; END IF; RETURN '{}'; END $$`);
      const before2 = dumpDigest(src.url);
      const late = planFile('evil-late.json', { tables: { MachineTelemetry: { columns: { rawData: { expression: 'vh_evil_late(id)' } } } }, ignore: { columns: { 'MachineTelemetry.rawData': 'replaced by an expression' } } });
      const r2 = await runCli(['split', 'run', '--no-progress', '--plan', late], env);
      expect(r2.code, r2.stderr).toBe(8);
      expect(r2.stderr).toMatch(/read-only transaction/);
      expect(dumpDigest(src.url)).toBe(before2);
      expect(await targetRowCount(topo)).toBe(0);
    } finally {
      await topo.drop();
      await src.drop();
    }
  }, 180_000);

  it('a string literal that contains a column name does not cover that column: exit 7', async () => {
    const src = await golden.clone('cov');
    const topo = await migratedTargets('shared', 'cov');
    try {
      const env = { ...(topo.env as Record<string, string>), SOURCE_DATABASE_URL: src.url };
      const literal = planFile('literal.json', { tables: { Machine: { columns: { name: { expression: `'machine without a name'` } } } } });
      const a = await runCli(['split', 'plan', '--plan', literal], env);
      expect(a.code, a.stderr).toBe(7);
      expect(a.stderr).toMatch(/column public\.Machine\.name is not mapped to any target column and not ignored/);
      const reads = planFile('reads.json', { tables: { Machine: { columns: { name: { expression: `coalesce("name", 'machine without a name')` } } } } });
      const b = await runCli(['split', 'plan', '--plan', reads], env);
      expect(b.code, b.stderr).toBe(0);
      const needless = planFile('needless.json', { tables: { Machine: { columns: { createdAt: { acceptLoss: 'just in case' } } } } });
      const c = await runCli(['split', 'plan', '--plan', needless], env);
      expect(c.code, c.stderr).toBe(7);
      expect(c.stderr).toMatch(/tables\.Machine\.columns\.createdAt\.acceptLoss: timestamp\(3\) without time zone → timestamp\(3\) without time zone loses nothing/);
    } finally {
      await topo.drop();
      await src.drop();
    }
  }, 180_000);

  it('narrowing: named in plan, refused by preflight when rows would change, allowed when accepted, not hidden by verify', async () => {
    const src = await golden.clone('narrow');
    const topo = await migratedTargets('shared', 'narrow');
    try {
      await sql(src.url, `ALTER TABLE "MachineTelemetry" ALTER COLUMN "createdAt" TYPE timestamp(6)`);
      await sql(src.url, `UPDATE "MachineTelemetry" SET "createdAt" = "createdAt" + interval '123 microseconds' WHERE id IN (SELECT id FROM "MachineTelemetry" ORDER BY id LIMIT 2)`);
      await sql(src.url, `ALTER TABLE "InventoryItem" ALTER COLUMN price TYPE numeric`);
      await sql(src.url, `UPDATE "InventoryItem" SET price = 1.12345678901234567891 WHERE id = (SELECT min(id) FROM "InventoryItem")`);
      const env = { ...(topo.env as Record<string, string>), SOURCE_DATABASE_URL: src.url };
      const plan = await runCli(['split', 'plan'], env);
      expect(plan.code, plan.stderr).toBe(0);
      expect(plan.stdout).toMatch(/createdAt → created_at .*LOSSY: timestamp\(6\) without time zone → timestamp\(3\) without time zone keeps 3 fractional digits of 6/);
      const refused = await runCli(['split', 'run', '--no-progress'], env);
      expect(refused.code, refused.stderr).toBe(8);
      expect(refused.stderr).toMatch(/\[narrowing\] MachineTelemetry → machines_service\.machine_telemetry\.created_at: .*keeps 3 fractional digits of 6.*acceptLoss.*\(2 rows, e\.g\. id /);
      expect(refused.stderr).toMatch(/\[narrowing\] InventoryItem → inventory_service\.inventory_items\.price: numeric → double precision/);
      expect(await targetRowCount(topo)).toBe(0);
      const accept = planFile('accept.json', { tables: {
        MachineTelemetry: { columns: { createdAt: { acceptLoss: 'sub-millisecond digits are clock noise' } } },
        InventoryItem: { columns: { price: { acceptLoss: 'prices have 2 decimals in practice' } } },
      } });
      const ran = await runCli(['split', 'run', '--no-progress', '--plan', accept], env);
      expect(ran.code, ran.stderr).toBe(0);
      // Without the acceptance verify compares in the source's type: the lost digits show.
      const strict = await runCli(['split', 'verify', '--json'], env);
      expect(strict.code, strict.stderr).toBe(10);
      const bad = JSON.parse(strict.stdout).report.verify.tables.filter((t: { ok: boolean }) => !t.ok).map((t: { model: string; changed: string[] }) => [t.model, t.changed.length]);
      expect(bad).toEqual(expect.arrayContaining([['MachineTelemetry', 2], ['InventoryItem', 1]]));
      const accepted = await runCli(['split', 'verify', '--plan', accept, '--json'], env);
      expect(accepted.code, accepted.stderr).toBe(0);
      const tel = JSON.parse(accepted.stdout).report.verify.tables.find((t: { model: string }) => t.model === 'MachineTelemetry');
      expect(tel.acceptedLoss).toEqual([expect.stringMatching(/^created_at: .*keeps 3 fractional digits of 6 \(accepted: sub-millisecond digits are clock noise\)$/)]);
    } finally {
      await topo.drop();
      await src.drop();
    }
  }, 240_000);
});
