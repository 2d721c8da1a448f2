import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConnectionUrl, type ParsedConnection } from '../src/config/connection-url.ts';
import { openDatabase } from '../src/db/database-handle.ts';
import { withDatabase, withTransaction } from '../src/db/with-database.ts';
import { buildMonolith } from '../src/monolith/build-monolith.ts';
import { withSplitContext } from '../src/split/split-context.ts';
import { runCli, spawnCli, until, type CliResult } from './helpers/cli.ts';
import { CLUSTER_PASSWORD, startLogicalCluster, type LogicalCluster } from './helpers/logical-cluster.ts';
import { adminQuery } from './helpers/pg.ts';
import { untilSlotsActive } from './helpers/rollback-window.ts';
import { migratedTargets } from './helpers/split-fixture.ts';

// A source like Supabase's, Neon's or Railway's: scram-sha-256 and a password with `@`, `%`, `:`, `/`.
let cluster: LogicalCluster;
let golden: string;

beforeAll(async () => {
  cluster = await startLogicalCluster();
  golden = await cluster.createDatabase('gold');
  await buildMonolith(cluster.url(golden), { scale: 0.3, seed: 5, danglingTransactions: 0 });
});
afterAll(async () => {
  await cluster?.stop();
});

const noPassword = (r: CliResult) => {
  const all = r.stdout + r.stderr;
  expect(all).not.toContain(CLUSTER_PASSWORD);
  expect(all).not.toContain(encodeURIComponent(CLUSTER_PASSWORD));
};

/** A session opened by the test itself, with settings it chooses (not the tool's). */
async function rows(url: string, text: string, c: pg.ClientConfig = {}): Promise<unknown[]> {
  const client = new pg.Client({ connectionString: url, ...c });
  await client.connect();
  try {
    await client.query(`SET datestyle = 'ISO, MDY'; SET timezone = 'UTC'`);
    return (await client.query({ text, rowMode: 'array' })).rows;
  } finally {
    await client.end();
  }
}

describe('a source with a password', () => {
  it('split run --follow copies and streams (the replication connection keeps the password); split abort ends it', async () => {
    const db = await cluster.createDatabase('pw', golden);
    const topo = await migratedTargets('shared', 'pwfollow');
    const env = { ...(topo.env as Record<string, string>), SOURCE_DATABASE_URL: cluster.url(db) };
    const follower = spawnCli(['split', 'run', '--follow', '--no-progress'], env);
    const { child, exited } = follower;
    try {
      // Streaming means: the slot exists and its walsender is active (the hang never got there).
      await untilSlotsActive(cluster, 'vendhub_split', 1, follower, 60_000);
      expect(follower.output()).toContain('following changes now');
      await cluster.query(`UPDATE public."User" SET name = 'changed while following' WHERE id = (SELECT min(id) FROM public."User")`, [], db);
      const target = topo.databases[0]?.url as string;
      await until(async () => (await rows(target, `SELECT count(*)::int FROM auth_service.users WHERE name = 'changed while following'`))[0]?.toString() === '1', 30_000, () => `change not applied: ${follower.output()}`);
      const a = await runCli(['split', 'abort'], env, 60_000);
      expect(a.code, a.stderr).toBe(0);
      noPassword(a);
      expect(await exited, follower.output()).toBe(0);
      noPassword({ stdout: follower.output(), stderr: '', code: 0, signal: null });
      const left = await cluster.query<{ n: number }>(`SELECT (SELECT count(*) FROM pg_replication_slots) + (SELECT count(*) FROM pg_publication) AS n`, [], db);
      expect(Number(left[0]?.n)).toBe(0);
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
      await topo.drop();
    }
  });

  it('a wrong password is refused at once with exit 4 and no password in the output', async () => {
    const topo = await migratedTargets('shared', 'pwwrong');
    try {
      const env = { ...(topo.env as Record<string, string>), SOURCE_DATABASE_URL: cluster.url(golden, 'postgres', { password: 'not-the%40password' }) };
      const r = await runCli(['split', 'run', '--no-progress'], env, 60_000);
      expect(r.code, r.stderr).toBe(4);
      expect(r.stderr).toMatch(/authentication failed/);
      expect(r.stderr).not.toMatch(/\n\s+at /); // no stack trace
      noPassword(r);
    } finally {
      await topo.drop();
    }
  });
});

describe('every session the tool opens is pinned (datestyle, time zone, ...)', () => {
  it('a source and targets with SQL/DMY dates and non-UTC time zones split timestamptz → timestamp exactly', async () => {
    const db = await cluster.createDatabase('style', golden);
    const topo = await migratedTargets('shared', 'pwstyle');
    try {
      // User.createdAt becomes timestamptz on the source; the auth target keeps timestamp(3).
      await cluster.query(`ALTER TABLE public."User" ALTER COLUMN "createdAt" TYPE timestamptz USING "createdAt" AT TIME ZONE 'UTC'`, [], db);
      await cluster.query(`ALTER DATABASE "${db}" SET datestyle = 'SQL, DMY'`);
      await cluster.query(`ALTER DATABASE "${db}" SET timezone = 'Asia/Tashkent'`);
      await cluster.query(`ALTER DATABASE "${db}" SET intervalstyle = 'sql_standard'`);
      await cluster.query(`ALTER DATABASE "${db}" SET extra_float_digits = '-3'`);
      const target = topo.databases[0]?.name as string;
      await adminQuery(`ALTER DATABASE "${target}" SET datestyle = 'SQL, MDY'`);
      await adminQuery(`ALTER DATABASE "${target}" SET timezone = 'America/Los_Angeles'`);
      const env = { ...(topo.env as Record<string, string>), SOURCE_DATABASE_URL: cluster.url(db) };
      const r = await runCli(['split', 'run', '--no-progress', '--chunk-rows', '100'], env, 120_000);
      expect(r.code, r.stdout + r.stderr).toBe(0);
      expect(r.stdout).toMatch(/\| public\.User \| auth \| auth_service\.users \| \d+ \| \d+ \| [\d.]+ \| [\d,]+ \| equal \|/);
      const src = await rows(cluster.url(db), `SELECT id, ("createdAt" AT TIME ZONE 'UTC')::text FROM public."User" ORDER BY id`);
      const dst = await rows(topo.databases[0]?.url as string, `SELECT id, created_at::text FROM auth_service.users ORDER BY id`);
      expect(src.length).toBeGreaterThan(3); // scale 0.3: 8 users
      expect(dst).toEqual(src);
      const v = await runCli(['split', 'verify'], env, 120_000);
      expect(v.code, v.stdout + v.stderr).toBe(0);
    } finally {
      await topo.drop();
    }
  });
});

describe('the source is read-only to the tool', () => {
  it('a write through the normal source handle fails; the explicit writer handle may write', async () => {
    const db = await cluster.createDatabase('ro', golden);
    const topo = await migratedTargets('shared', 'pwro');
    try {
      await withSplitContext({ ...(topo.env as Record<string, string>), SOURCE_DATABASE_URL: cluster.url(db) }, { parallel: 1 }, async (ctx) => {
        await expect(withDatabase(ctx, ctx.source, (c) => c.query('CREATE TABLE public.tool_wrote_here (id int)'))).rejects.toThrow(/read-only/);
        await expect(withTransaction(ctx.source, (c) => c.query(`UPDATE public."User" SET name = 'x'`))).rejects.toThrow(/read-only/);
        const settings = await withDatabase(ctx, ctx.source, async (c) => (await c.query(`SELECT current_setting('DateStyle') d, current_setting('TimeZone') z, current_setting('IntervalStyle') i, current_setting('extra_float_digits') f, current_setting('bytea_output') b, current_setting('client_encoding') e`)).rows[0]);
        expect(settings).toEqual({ d: 'ISO, MDY', z: 'UTC', i: 'postgres', f: '3', b: 'hex', e: 'UTF8' });
        await withDatabase(ctx, ctx.sourceWriter, (c) => c.query('CREATE TABLE public.writer_may (id int)'));
        const t = await cluster.query<{ n: number }>(`SELECT count(*)::int AS n FROM pg_tables WHERE tablename IN ('tool_wrote_here', 'writer_may')`, [], db);
        expect(t[0]?.n).toBe(1);
        // Targets are writable, and pinned the same way.
        const target = ctx.targets[0];
        if (!target) throw new Error('no target');
        const z = await withDatabase(ctx, target, async (c) => (await c.query(`SELECT current_setting('TimeZone') z, current_setting('transaction_read_only') r`)).rows[0]);
        expect(z).toEqual({ z: 'UTC', r: 'off' });
      });
    } finally {
      await topo.drop();
    }
  });

  it('with pgbouncer=true (no startup options allowed) the same settings are SET after connecting', async () => {
    const db = await cluster.createDatabase('bouncer', golden);
    await cluster.query(`ALTER DATABASE "${db}" SET timezone = 'Asia/Tashkent'`);
    await cluster.query(`ALTER DATABASE "${db}" SET datestyle = 'SQL, DMY'`);
    const problems: string[] = [];
    const conn = parseConnectionUrl('SOURCE_DATABASE_URL', `${cluster.url(db)}?pgbouncer=true`, {}, problems);
    expect(problems).toEqual([]);
    const h = openDatabase(conn as ParsedConnection, { label: 'bouncer source', readOnly: true });
    try {
      for (let i = 0; i < 3; i++) {
        // Several rounds: a pooled connection reused keeps its settings, a new one gets them.
        const got = await withDatabase(h, async (c) => (await c.query(`SELECT current_setting('DateStyle') d, current_setting('TimeZone') z, current_setting('transaction_read_only') r`)).rows[0]);
        expect(got).toEqual({ d: 'ISO, MDY', z: 'UTC', r: 'on' });
      }
      await expect(withDatabase(h, (c) => c.query('CREATE TABLE public.through_bouncer (id int)'))).rejects.toThrow(/read-only/);
    } finally {
      await h.pool.end();
    }
  });
});

