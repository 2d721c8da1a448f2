import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildGolden, migratedTargets, sql, type Golden } from './helpers/split-fixture.ts';
import { runSplit, verifySplit } from './helpers/split-ops.ts';

/**
 * A source whose key sorts by an ICU collation (case-insensitive at first level: a < B < c) and a
 * target that sorts bytes (B < a): chunk bounds come in the source's order, verify compares byte
 * ranges, and each row must still be counted once and a deleted key listed once.
 */
describe('verify with a source key collation that the target does not share', () => {
  let golden: Golden;
  beforeAll(async () => {
    golden = await buildGolden('coll', 0.2, 3, 0);
  }, 120_000);
  afterAll(async () => {
    await golden?.drop();
  });

  it('a 20,001-row table is counted as 20,001 and a deleted key is listed once', async () => {
    const src = await golden.clone('icu');
    const topo = await migratedTargets('shared', 'coll');
    try {
      await sql(src.url, `DELETE FROM "MachineTelemetry"`);
      await sql(src.url, `ALTER TABLE "MachineTelemetry" ALTER COLUMN id TYPE text COLLATE "en-x-icu"`);
      // Mixed case and punctuation: the ICU order and the byte order disagree all along the table.
      await sql(src.url, `INSERT INTO "MachineTelemetry" (id, "machineId", errors, "rawData")
        SELECT chr(65 + (g * 7) % 26 + (g % 2) * 32) || CASE g % 3 WHEN 0 THEN '_' WHEN 1 THEN '-' ELSE '' END || lpad(g::text, 6, '0'),
               (SELECT min(id) FROM "Machine"), '{}', jsonb_build_object('g', g)
          FROM generate_series(1, 20001) g`);
      await sql(src.url, 'ANALYZE "MachineTelemetry"');
      const env = { ...(topo.env as Record<string, string>), SOURCE_DATABASE_URL: src.url };
      const run = await runSplit(env, { chunkRows: 2_000 });
      expect(run.tables.find((t) => t.model === 'MachineTelemetry')?.rows).toBe(20_001);
      expect(run.tables.find((t) => t.model === 'MachineTelemetry')?.chunks).toBeGreaterThan(5);
      const equal = await verifySplit(env, {});
      const t0 = equal.tables.find((t) => t.model === 'MachineTelemetry');
      expect([t0?.sourceRows, t0?.targetRows, t0?.ok]).toEqual([20_001, 20_001, true]);
      const url = topo.env.DATABASE_URL as string;
      const gone = (await sql<{ id: string }>(url, `SELECT id FROM machines_service.machine_telemetry ORDER BY id COLLATE "C" OFFSET 7777 LIMIT 1`))[0]?.id as string;
      await sql(url, 'DELETE FROM machines_service.machine_telemetry WHERE id = $1', [gone]);
      const v = await verifySplit(env, {});
      const t = v.tables.find((x) => x.model === 'MachineTelemetry');
      expect(v.ok).toBe(false);
      expect([t?.sourceRows, t?.targetRows]).toEqual([20_001, 20_000]);
      expect(t?.missing).toEqual([gone]);
      expect(t?.extra).toEqual([]);
      expect(t?.changed).toEqual([]);
    } finally {
      await topo.drop();
      await src.drop();
    }
  }, 300_000);
});
