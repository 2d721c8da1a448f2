import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CANONICAL_SESSION, comparedValues, rowHashSql } from '../src/split/row-hash.ts';
import { runCli } from './helpers/cli.ts';
import { createTestDatabase, type TestDatabase } from './helpers/pg.ts';
import { buildGolden, migratedTargets, sql, type Golden } from './helpers/split-fixture.ts';
import type { Topology } from './helpers/topology.ts';
import { runSplit, verifySplit } from './helpers/split-ops.ts';

/**
 * Pairs of different values of one type that PostgreSQL's equality hashes (what verify used to
 * fingerprint with) make collide, and pairs that PostgreSQL stores identically. `old` is the hash
 * the old verify used for the type; each pair proves it collides, then that the fingerprint does not.
 */
const DIFFERENT: readonly { type: string; a: string; b: string; old: string }[] = [
  { type: 'jsonb', a: `'{}'`, b: `'[]'`, old: 'jsonb_hash_extended' },
  { type: 'jsonb', a: `'{"t": 1.0}'`, b: `'{"t": 1.00}'`, old: 'jsonb_hash_extended' },
  { type: 'jsonb', a: `'[1.0]'`, b: `'[1]'`, old: 'jsonb_hash_extended' },
  { type: 'float8', a: `'0'`, b: `'-0'`, old: 'hashfloat8extended' },
  { type: 'float4', a: `'0'`, b: `'-0'`, old: 'hashfloat4extended' },
  { type: 'float8[]', a: `'{0}'`, b: `'{-0}'`, old: 'hash_array_extended' },
  { type: 'numeric', a: `'1.0'`, b: `'1.00'`, old: 'hash_numeric_extended' },
  { type: 'numeric[]', a: `'{1.0}'`, b: `'{1.00}'`, old: 'hash_array_extended' },
  { type: 'int8', a: '0', b: '4294967297', old: 'hashint8extended' },
  { type: 'int8', a: '-1', b: '-4294967298', old: 'hashint8extended' },
  // Two timestamps 2^32 + 1 µs apart whose 32-bit halves XOR alike (timestamp_hash folds them).
  { type: 'timestamp', a: `'2000-01-01 00:00:00'::timestamp + interval '0 microseconds'`, b: `'2000-01-01 00:00:00'::timestamp + interval '4294967297 microseconds'`, old: 'timestamp_hash_extended' },
  { type: 'timestamptz', a: `'2000-01-01 00:00:00+00'`, b: `'2000-01-01 00:00:00+00'::timestamptz + interval '4294967297 microseconds'`, old: '' },
  { type: 'interval', a: `'1 day'`, b: `'24 hours'`, old: 'interval_hash_extended' },
  { type: 'interval', a: `'1 mon'`, b: `'30 days'`, old: 'interval_hash_extended' },
  { type: 'text[]', a: `'{a,b}'`, b: `'[0:1]={a,b}'`, old: 'hash_array_extended' },
  { type: 'text[]', a: `'{{a,b},{c,d}}'`, b: `'{a,b,c,d}'`, old: 'hash_array_extended' },
  { type: 'int4[]', a: `'{1,2}'`, b: `'[2:3]={1,2}'`, old: 'hash_array_extended' },
  { type: 'citext', a: `'Machine'`, b: `'machine'`, old: 'citext_hash_extended' },
  { type: 'text COLLATE "und-ci"', a: `'ABC'`, b: `'abc'`, old: 'hashtextextended' },
  { type: 'bpchar', a: `'a'`, b: `'a  '`, old: 'hashbpcharextended' },
  { type: 'numrange', a: `'[1.0,2)'`, b: `'[1.00,2)'`, old: 'hash_range_extended' },
  { type: 'tstzrange', a: `'[2000-01-01 00:00:00+00,)'`, b: `tstzrange('2000-01-01 00:00:00+00'::timestamptz + interval '4294967297 microseconds', NULL)`, old: 'hash_range_extended' },
  { type: 'pair', a: `ROW(1.0, '{}')`, b: `ROW(1.00, '[]')`, old: 'hash_record_extended' },
  { type: 'hstore', a: `'a=>1.0'`, b: `'a=>1.00'`, old: '' },
];

/** Values that are the same to PostgreSQL: they must fingerprint alike. */
const SAME: readonly { type: string; a: string; b: string }[] = [
  { type: 'jsonb', a: `'{"b": 1, "a": [1, 2]}'`, b: `'{"a":[1,2],"b":1}'` },
  { type: 'jsonb', a: `'{"a": 1, "a": 2}'`, b: `'{"a": 2}'` },
  { type: 'timestamptz', a: `'2024-03-01 12:00:00+02'`, b: `'2024-03-01 10:00:00+00'` },
  { type: 'numeric', a: `'1.50'`, b: `'001.50'` },
  { type: 'float8', a: `'NaN'`, b: `'nan'` },
  { type: 'text[]', a: `'{"a","b"}'`, b: `'{a,b}'` },
];

describe('verify fingerprints tell different values apart, type by type', () => {
  let db: TestDatabase;
  /** Runs a query in a session set up as verify sets its own (CANONICAL_SESSION). */
  const q = async (text: string) => {
    const c = new pg.Client({ connectionString: db.url });
    await c.connect();
    try {
      await c.query(CANONICAL_SESSION);
      return (await c.query<{ same: boolean }>(text)).rows;
    } finally {
      await c.end();
    }
  };
  beforeAll(async () => {
    db = await createTestDatabase('fp');
    await sql(db.url, `CREATE EXTENSION citext; CREATE EXTENSION hstore; CREATE TYPE pair AS (n numeric, j jsonb);
      CREATE COLLATION "und-ci" (provider = icu, locale = 'und-u-ks-level2', deterministic = false)`);
  });
  afterAll(async () => {
    await db?.drop();
  });

  it.each(DIFFERENT)('$type: $a vs $b collide in $old but not in the fingerprint', async ({ type, a, b, old }) => {
    const fp = (v: string) => rowHashSql([`(${v})::${type}`]);
    if (old) {
      const collide = await q(`SELECT ${old}((${a})::${type}, 0) = ${old}((${b})::${type}, 0) AS same`);
      expect(collide.at(-1)?.same, `${old} should collide for this pair`).toBe(true);
    }
    const r = await q(`SELECT ${fp(a)} = ${fp(b)} AS same`);
    expect(r.at(-1)?.same).toBe(false);
  });

  it.each(SAME)('$type: $a and $b are stored alike and fingerprint alike', async ({ type, a, b }) => {
    const fp = (v: string) => rowHashSql([`(${v})::${type}`]);
    const r = await q(`SELECT ${fp(a)} = ${fp(b)} AS same`);
    expect(r.at(-1)?.same).toBe(true);
  });

  it.each([
    { name: 'float8 → numeric, as COPY wrote it', s: ['float8', 'double precision', `0.1::float8 + 0.2::float8`], t: ['numeric', 'numeric', `'0.30000000000000004'::numeric`], accepted: false, same: true },
    { name: 'float8 → numeric, rounded', s: ['float8', 'double precision', `0.1::float8 + 0.2::float8`], t: ['numeric', 'numeric', `0.3::numeric`], accepted: false, same: false },
    { name: 'float4 → float8, as COPY wrote it', s: ['float4', 'real', `0.1::float4`], t: ['float8', 'double precision', `0.1::float8`], accepted: false, same: true },
    { name: 'numeric(10,2) → float8 that kept the value', s: ['numeric', 'numeric(10,2)', `1.50::numeric(10,2)`], t: ['float8', 'double precision', `1.5::float8`], accepted: false, same: true },
    { name: 'timestamp(6) → timestamp(3) that lost digits', s: ['timestamp', 'timestamp(6) without time zone', `'2024-01-01 10:00:00.123456'::timestamp(6)`], t: ['timestamp', 'timestamp(3) without time zone', `'2024-01-01 10:00:00.123'::timestamp(3)`], accepted: false, same: false },
    { name: 'timestamp(6) → timestamp(3), loss accepted', s: ['timestamp', 'timestamp(6) without time zone', `'2024-01-01 10:00:00.123456'::timestamp(6)`], t: ['timestamp', 'timestamp(3) without time zone', `'2024-01-01 10:00:00.123'::timestamp(3)`], accepted: true, same: true },
    { name: 'timestamptz → timestamp converted at UTC', s: ['timestamptz', 'timestamp with time zone', `'2024-01-01 10:00:00+02'::timestamptz`], t: ['timestamp', 'timestamp(3) without time zone', `'2024-01-01 08:00:00'::timestamp(3)`], accepted: false, same: true },
    { name: 'timestamptz → timestamp converted in another zone', s: ['timestamptz', 'timestamp with time zone', `'2024-01-01 10:00:00+02'::timestamptz`], t: ['timestamp', 'timestamp(3) without time zone', `'2024-01-01 10:00:00'::timestamp(3)`], accepted: false, same: false },
  ])('across types: $name', async ({ s: [sb, st, sv], t: [tb, tt, tv], accepted, same }) => {
    const info = (baseType: string, type: string) => ({ baseType, type, enumLabels: undefined, isArray: false });
    const pair = comparedValues(sv as string, tv as string, info(sb as string, st as string), info(tb as string, tt as string), accepted);
    const r = await q(`SELECT ${rowHashSql([pair.source])} = ${rowHashSql([pair.target])} AS same`);
    expect(r.at(-1)?.same).toBe(same);
  });

  it('a row tells NULL from an empty string and values from their neighbours', async () => {
    const pairs: [string[], string[]][] = [
      [['NULL::text', `''::text`], [`''::text`, 'NULL::text']],
      [[`'a,b'::text`, `'c'::text`], [`'a'::text`, `'b,c'::text`]],
      [[`'a'::text`, 'NULL::text'], [`NULL::text`, `'a'::text`]],
    ];
    for (const [x, y] of pairs) {
      const r = await q(`SELECT ${rowHashSql(x)} = ${rowHashSql(y)} AS same`);
      expect(r.at(-1)?.same, `${x} vs ${y}`).toBe(false);
    }
  });
});

/**
 * End to end: a split copied exactly, then one value of the target changed at a time into the
 * other member of an adversarial pair; each must be reported (changed key), and the exact copy equal.
 */
describe('verify reports a one-value difference that the old hashes did not see', () => {
  let golden: Golden;
  let topo: Topology;
  let src: TestDatabase;
  let env: Record<string, string>;
  let url: string;
  beforeAll(async () => {
    golden = await buildGolden('fpe', 0.2, 5, 0);
    src = await golden.clone('fpe');
    topo = await migratedTargets('shared', 'fpe');
    env = { ...(topo.env as Record<string, string>), SOURCE_DATABASE_URL: src.url };
    url = topo.env.DATABASE_URL as string;
    // Values on the edge of each hash in the source, so the target holds them too after the copy.
    await sql(src.url, `UPDATE "Machine" SET metadata = '{}' WHERE id = (SELECT min(id) FROM "Machine")`);
    await sql(src.url, `UPDATE "MachineTelemetry" SET temperature = 0, "rawData" = '{"t": 1.0}', errors = '{a,b}' WHERE id = (SELECT min(id) FROM "MachineTelemetry")`);
    await sql(src.url, `UPDATE "MachineTelemetry" SET "createdAt" = '2020-01-01 00:00:00' WHERE id = (SELECT max(id) FROM "MachineTelemetry")`);
    await sql(src.url, `UPDATE "User" SET roles = '{ADMIN,OPERATOR}' WHERE id = (SELECT min(id) FROM "User")`);
    const run = await runSplit(env, { chunkRows: 500 });
    expect(run.interrupted).toBe(false);
  }, 300_000);
  afterAll(async () => {
    await topo?.drop();
    await src?.drop();
    await golden?.drop();
  });

  it('the exact copy verifies equal', async () => {
    const v = await verifySplit(env, { chunkRows: 500 });
    expect(v.tables.filter((t) => !t.ok)).toEqual([]);
  });

  it('the exact copy verifies equal whatever session defaults the databases have, and a difference still shows', async () => {
    const weird = `SET datestyle = 'SQL, DMY'; SET timezone = 'America/New_York'; SET extra_float_digits = -3; SET intervalstyle = 'sql_standard'; SET bytea_output = 'escape'; SET lc_monetary = 'C'`;
    const names = [new URL(src.url).pathname.slice(1), new URL(url).pathname.slice(1)];
    const alter = async (how: (setting: string) => string) => {
      for (const db of names) for (const s of weird.split(';').map((x) => x.trim().replace(/^SET /, ''))) {
        const [k] = s.split(' = ');
        await sql(url, `ALTER DATABASE "${db}" ${how(s).replace('%k', k as string)}`);
      }
    };
    await alter((s) => `SET ${s}`);
    try {
      const v = await verifySplit(env, { chunkRows: 500 });
      expect(v.tables.filter((t) => !t.ok)).toEqual([]);
      const id = (await sql<{ id: string }>(url, 'SELECT min(id) AS id FROM machines_service.machine_telemetry'))[0]?.id as string;
      await sql(url, `UPDATE machines_service.machine_telemetry SET temperature = temperature + 1e-13 WHERE id = $1`, [id]);
      try {
        const w = await verifySplit(env, { chunkRows: 500 });
        expect(w.tables.find((t) => t.model === 'MachineTelemetry')?.changed).toEqual([id]);
      } finally {
        await sql(url, `UPDATE machines_service.machine_telemetry SET temperature = 0 WHERE id = $1`, [id]);
      }
    } finally {
      await alter(() => 'RESET %k');
    }
  });

  const first = (table: string) => `(SELECT min(id) FROM ${table})`;
  const last = (table: string) => `(SELECT max(id) FROM ${table})`;
  const CASES: readonly { name: string; model: string; table: string; key: (t: string) => string; column: string; value: string }[] = [
    { name: `jsonb '{}' → '[]'`, model: 'Machine', table: 'machines_service.machines', key: first, column: 'metadata', value: '[]' },
    { name: 'jsonb 1.0 → 1.00', model: 'MachineTelemetry', table: 'machines_service.machine_telemetry', key: first, column: 'raw_data', value: '{"t": 1.00}' },
    { name: 'float8 0 → -0', model: 'MachineTelemetry', table: 'machines_service.machine_telemetry', key: first, column: 'temperature', value: '-0' },
    { name: `text[] '{a,b}' → '[0:1]={a,b}'`, model: 'MachineTelemetry', table: 'machines_service.machine_telemetry', key: first, column: 'errors', value: '[0:1]={a,b}' },
    { name: 'enum[] with other dimensions', model: 'User', table: 'auth_service.users', key: first, column: 'roles', value: '[0:1]={ADMIN,OPERATOR}' },
    // A timestamp(3) whose int8 microseconds XOR their 32-bit halves like the original's does.
    { name: 'timestamp(3) whose hash halves XOR alike', model: 'MachineTelemetry', table: 'machines_service.machine_telemetry', key: last, column: 'created_at', value: xorTwin('2020-01-01 00:00:00') },
  ];

  it.each(CASES)('$name: reported as the changed key', async ({ model, table, key, column, value }) => {
    const id = (await sql<{ id: string }>(url, `SELECT ${key(table)} AS id`))[0]?.id as string;
    const before = (await sql<{ v: string | null }>(url, `SELECT ${column}::text AS v FROM ${table} WHERE id = $1`, [id]))[0]?.v ?? null;
    if (column === 'created_at') {
      const old = await sql<{ same: boolean }>(url, `SELECT timestamp_hash_extended($1::timestamp, 0) = timestamp_hash_extended($2::timestamp, 0) AS same`, [before, value]);
      expect(old[0]?.same, 'the twin collides in timestamp_hash_extended').toBe(true);
    }
    await sql(url, `UPDATE ${table} SET ${column} = $1 WHERE id = $2`, [value, id]);
    try {
      const v = await verifySplit(env, { chunkRows: 500 });
      const t = v.tables.find((x) => x.model === model);
      expect(v.ok).toBe(false);
      expect(t?.changed).toEqual([id]);
      expect(v.tables.filter((x) => x.model !== model).every((x) => x.ok)).toBe(true);
    } finally {
      await sql(url, `UPDATE ${table} SET ${column} = $1 WHERE id = $2`, [before, id]);
    }
  });

  it('the CLI exits 10 for such a difference and 0 once restored', async () => {
    const id = (await sql<{ id: string }>(url, `SELECT min(id) AS id FROM machines_service.machines`))[0]?.id as string;
    await sql(url, `UPDATE machines_service.machines SET metadata = '[]' WHERE id = $1`, [id]);
    const bad = await runCli(['split', 'verify', '--json'], env);
    expect(bad.code, bad.stderr).toBe(10);
    await sql(url, `UPDATE machines_service.machines SET metadata = '{}' WHERE id = $1`, [id]);
    const good = await runCli(['split', 'verify', '--json'], env);
    expect(good.code, good.stderr).toBe(0);
  });
});

/**
 * A timestamp(3) different from `base` whose int8 microseconds have the same XOR of their 32-bit
 * halves, so PostgreSQL's timestamp hash (hashint8) cannot tell them apart.
 */
function xorTwin(base: string): string {
  const epoch = Date.UTC(2000, 0, 1);
  const v = BigInt(Date.parse(`${base.replace(' ', 'T')}Z`) - epoch) * 1000n;
  const hi = v >> 32n;
  const lo = v & 0xffffffffn;
  for (let d = 1n; d < 100_000n; d++) {
    const hi2 = hi + d;
    const lo2 = lo ^ hi ^ hi2;
    if (lo2 > 0xffffffffn) continue;
    const v2 = (hi2 << 32n) | lo2;
    if (v2 % 1000n === 0n) return new Date(epoch + Number(v2 / 1000n)).toISOString().replace('T', ' ').replace('Z', '');
  }
  throw new Error('no twin found');
}
