import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { parseConnectionUrl, type ParsedConnection } from '../src/config/connection-url.ts';
import { checksumOf, migrationList, readMigrations } from '../src/migrate/migrations-dir.ts';
import { NO_FILTERS, openSchemaEngine } from '../src/migrate/schema-engine.ts';
import { buildMonolith, monolithCounts, type MonolithCounts } from '../src/monolith/build-monolith.ts';
import { ensureRole } from '../src/monolith/ensure-role.ts';
import { MONOLITH_TABLES } from '../src/monolith/monolith-counts.ts';
import { COMMENTS, ERROR_CODES } from '../src/monolith/vocabulary.ts';
import { ADMIN_URL, adminQuery, createTestDatabase, type TestDatabase, urlFor } from './helpers/pg.ts';

/** Small enough for seconds per build, big enough for both telemetry streams and every pattern. */
const SCALE = 0.2;

/** A fresh database for one test, dropped afterwards whatever happens. */
async function withDatabase(prefix: string, fn: (db: TestDatabase) => Promise<void>): Promise<void> {
  const db = await createTestDatabase(prefix);
  try {
    await fn(db);
  } finally {
    await db.drop();
  }
}

async function withClient<T>(url: string, fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    return await fn(c);
  } finally {
    await c.end();
  }
}

async function scalar<T>(c: pg.Client, sql: string, params: unknown[] = []): Promise<T> {
  const { rows } = await c.query<{ v: T }>(sql, params);
  return (rows[0] as { v: T }).v;
}

/** md5 of every row's text form in id order, per table: equal hashes mean equal contents. */
async function contentHashes(url: string): Promise<Record<string, string>> {
  return withClient(url, async (c) => {
    const out: Record<string, string> = {};
    for (const t of [...MONOLITH_TABLES.map((n) => `"${n}"`), 'auth.users', 'storage.buckets']) {
      out[t] = await scalar<string>(c, `SELECT md5(coalesce(string_agg(t::text, E'\\n' ORDER BY t.id), '')) AS v FROM ${t} t`);
    }
    return out;
  });
}

async function tableCounts(c: pg.Client): Promise<MonolithCounts> {
  const out: Record<string, number> = {};
  for (const t of MONOLITH_TABLES) out[t] = Number(await scalar<string>(c, `SELECT count(*) AS v FROM "${t}"`));
  return out as unknown as MonolithCounts;
}

/** Index and constraint definitions of `public`, as PostgreSQL prints them. */
async function schemaDefinitions(c: pg.Client): Promise<string[]> {
  const { rows } = await c.query<{ d: string }>(
    `SELECT indexdef AS d FROM pg_indexes WHERE schemaname = 'public' AND tablename <> '_prisma_migrations'
     UNION ALL
     SELECT conrelid::regclass::text || ' ' || conname || ' ' || pg_get_constraintdef(oid) FROM pg_constraint
     WHERE connamespace = 'public'::regnamespace AND conrelid::regclass::text <> '_prisma_migrations'
     ORDER BY 1`,
  );
  return rows.map((r) => r.d);
}

describe('monolithCounts', () => {
  it('sizes tables from the scale, telemetry by far the largest, and refuses a non-positive scale', () => {
    const one = monolithCounts(1);
    const hundred = monolithCounts(100);
    expect(one.MachineTelemetry).toBe(10_000);
    expect(hundred.MachineTelemetry).toBe(1_000_000);
    for (const c of [monolithCounts(0.05), one, hundred, monolithCounts(1000)]) {
      const others = Object.entries(c).filter(([t]) => t !== 'MachineTelemetry').map(([, n]) => n);
      expect(c.MachineTelemetry).toBeGreaterThan(2 * Math.max(...others));
      expect(c.MachineInventory % c.Machine).toBe(0);
    }
    expect(monolithCounts(1000).Machine).toBe(5000);
    expect(() => monolithCounts(0)).toThrow(RangeError);
  });
});

describe('buildMonolith', () => {
  it('rejects bad options, listing every problem, before touching any database', async () => {
    const bad = buildMonolith(ADMIN_URL, { scale: 0, seed: 1.5, danglingTransactions: -1 });
    await expect(bad).rejects.toMatchObject({ code: 'USAGE' });
    await expect(bad).rejects.toThrow(/scale.*seed.*danglingTransactions/);
    const tooMany = monolithCounts(SCALE).Transaction + 1;
    await expect(buildMonolith(ADMIN_URL, { scale: SCALE, seed: 1, danglingTransactions: tooMany })).rejects.toThrow(/exceeds/);
  });

  it('reports a database that does not exist as CONNECTION_FAILED, with what to do next', async () => {
    const missing = urlFor(`vh_missing_${randomBytes(4).toString('hex')}`);
    await expect(buildMonolith(missing, { scale: SCALE, seed: 1 })).rejects.toMatchObject({ code: 'CONNECTION_FAILED', hint: expect.stringMatching(/Create the database/) });
  });

  it('loads the promised counts through Prisma migrations, reports progress, and refuses a non-empty database', async () => {
    await withDatabase('mono_counts', async (db) => {
      const progress = new Map<string, number>();
      const { counts, durationMs } = await buildMonolith(db.url, { scale: SCALE, seed: 11, onProgress: (t, n) => progress.set(t, n) });
      expect(counts).toEqual(monolithCounts(SCALE));
      expect(durationMs).toBeGreaterThan(0);
      expect(Object.fromEntries(progress)).toEqual(counts);
      await withClient(db.url, async (c) => {
        expect(await tableCounts(c)).toEqual(counts);
        const [init] = readMigrations('monolith');
        const { rows } = await c.query('SELECT migration_name, checksum, finished_at IS NOT NULL AS done, rolled_back_at FROM public._prisma_migrations');
        expect(rows).toEqual([{ migration_name: init?.name, checksum: checksumOf(init?.sql ?? ''), done: true, rolled_back_at: null }]);
        const { rows: estimates } = await c.query<{ relname: string; reltuples: number }>(
          `SELECT relname, reltuples FROM pg_class WHERE relnamespace = 'public'::regnamespace AND relkind = 'r' AND relname <> '_prisma_migrations'`,
        );
        for (const e of estimates) expect(e.reltuples, e.relname).toBe(counts[e.relname as keyof MonolithCounts]);
      });
      await expect(buildMonolith(db.url, { scale: SCALE, seed: 11 })).rejects.toMatchObject({ code: 'TARGET_NOT_EMPTY' });
    });
  });

  it('is deterministic: same seed twice (built concurrently) gives identical contents, another seed differs', async () => {
    const [a, b, other] = await Promise.all([createTestDatabase('mono_a'), createTestDatabase('mono_b'), createTestDatabase('mono_c')]);
    try {
      await Promise.all([buildMonolith(a.url, { scale: SCALE, seed: 42 }), buildMonolith(b.url, { scale: SCALE, seed: 42 })]);
      await buildMonolith(other.url, { scale: SCALE, seed: 43 });
      const [ha, hb, hc] = await Promise.all([contentHashes(a.url), contentHashes(b.url), contentHashes(other.url)]);
      expect(hb).toEqual(ha);
      for (const t of MONOLITH_TABLES) expect(hc[`"${t}"`], t).not.toBe(ha[`"${t}"`]);
      expect(hc['auth.users']).not.toBe(ha['auth.users']);
    } finally {
      await Promise.all([a.drop(), b.drop(), other.drop()]);
    }
  });

  it('looks like a Supabase project: roles, auth/storage/extensions schemas, grants and working RLS policies', async () => {
    await withDatabase('mono_supa', async (db) => {
      await buildMonolith(db.url, { scale: SCALE, seed: 5 });
      await withClient(db.url, async (c) => {
        const { rows: roles } = await c.query(
          `SELECT rolname, rolcanlogin, rolbypassrls FROM pg_roles WHERE rolname IN ('anon', 'authenticated', 'service_role') ORDER BY 1`,
        );
        expect(roles).toEqual([
          { rolname: 'anon', rolcanlogin: false, rolbypassrls: false },
          { rolname: 'authenticated', rolcanlogin: false, rolbypassrls: false },
          { rolname: 'service_role', rolcanlogin: false, rolbypassrls: true },
        ]);
        const { rows: ext } = await c.query(`SELECT extname, extnamespace::regnamespace::text AS schema FROM pg_extension WHERE extname <> 'plpgsql' ORDER BY 1`);
        expect(ext).toEqual(expect.arrayContaining([{ extname: 'pgcrypto', schema: 'extensions' }, { extname: 'uuid-ossp', schema: 'extensions' }]));
        expect(await scalar(c, `SELECT length(extensions.uuid_generate_v4()::text) AS v`)).toBe(36);
        expect(Number(await scalar(c, 'SELECT count(*) AS v FROM auth.users'))).toBe(5);
        expect(Number(await scalar(c, 'SELECT count(*) AS v FROM storage.buckets'))).toBe(3);
        expect(await scalar(c, `SELECT has_table_privilege('authenticated', '"Machine"', 'SELECT') AS v`)).toBe(true);

        const { rows: rls } = await c.query(
          `SELECT relname, relrowsecurity, relforcerowsecurity, (SELECT count(*)::int FROM pg_policies p WHERE p.schemaname = 'public' AND p.tablename = relname) AS policies
           FROM pg_class WHERE relnamespace = 'public'::regnamespace AND relrowsecurity ORDER BY 1`,
        );
        expect(rls.map((r) => r.relname)).toEqual(['AuditLog', 'Location', 'Transaction', 'User']);
        for (const r of rls) expect(r).toMatchObject({ relforcerowsecurity: false, policies: expect.any(Number) });
        expect(rls.every((r) => r.policies >= 1)).toBe(true);

        // The superuser owner sees everything; `authenticated` only what the policies allow.
        const me = await c.query<{ id: string; email: string }>('SELECT u.id, u.email FROM "User" u JOIN auth.users a ON a.email = u.email ORDER BY u.id LIMIT 1');
        const { id, email } = me.rows[0] as { id: string; email: string };
        const asRole = async (role: string, sql: string): Promise<number> => {
          await c.query('BEGIN');
          try {
            await c.query(`SELECT set_config('request.jwt.claims', $1, true)`, [JSON.stringify({ email, role })]);
            await c.query(`SET LOCAL ROLE ${role}`);
            return Number(await scalar<string>(c, sql));
          } finally {
            await c.query('ROLLBACK');
          }
        };
        const counts = monolithCounts(SCALE);
        expect(await asRole('authenticated', 'SELECT count(*) AS v FROM "User"')).toBe(1);
        expect(await asRole('authenticated', 'SELECT count(*) AS v FROM "Transaction"')).toBe(counts.Transaction);
        expect(await asRole('authenticated', 'SELECT count(*) AS v FROM "AuditLog"')).toBe(
          Number(await scalar<string>(c, 'SELECT count(*) AS v FROM "AuditLog" WHERE "userId" = $1', [id])),
        );
        expect(await asRole('anon', 'SELECT count(*) AS v FROM "User"')).toBe(0);
        expect(await asRole('anon', 'SELECT count(*) AS v FROM "Location"')).toBe(
          Number(await scalar<string>(c, 'SELECT count(*) AS v FROM "Location" WHERE "isActive"')),
        );
        expect(Number(await scalar<string>(c, 'SELECT count(*) AS v FROM "User"'))).toBe(counts.User);
      });
    });
  });

  it('has realistic data: every enum label, a NULL in every nullable column, non-ASCII, TOASTed jsonb, awkward arrays', async () => {
    await withDatabase('mono_real', async (db) => {
      await buildMonolith(db.url, { scale: SCALE, seed: 9 });
      await withClient(db.url, async (c) => {
        const { rows: nullable } = await c.query<{ t: string; col: string }>(
          `SELECT table_name AS t, column_name AS col FROM information_schema.columns
           WHERE table_schema = 'public' AND is_nullable = 'YES' AND table_name <> '_prisma_migrations'`,
        );
        expect(nullable.length).toBeGreaterThan(40);
        const neverNull = [];
        for (const { t, col } of nullable) {
          if (!(await scalar<boolean>(c, `SELECT EXISTS (SELECT 1 FROM "${t}" WHERE "${col}" IS NULL) AS v`))) neverNull.push(`${t}.${col}`);
        }
        expect(neverNull).toEqual([]);

        const { rows: enumCols } = await c.query<{ t: string; col: string; enum: string; isArray: boolean }>(
          `SELECT c.table_name AS t, c.column_name AS col, e.typname AS enum, c.data_type = 'ARRAY' AS "isArray"
           FROM information_schema.columns c JOIN pg_type e ON e.typname = ltrim(c.udt_name, '_') AND e.typtype = 'e'
           WHERE c.table_schema = 'public'`,
        );
        expect(enumCols.map((e) => e.enum).sort()).toEqual(['InventoryUnit', 'MachineStatus', 'StockMovementType', 'TaskPriority', 'TaskStatus', 'UserRole']);
        for (const { t, col, enum: type, isArray } of enumCols) {
          const used = await c.query<{ v: string }>(`SELECT DISTINCT ${isArray ? `unnest("${col}")` : `"${col}"`}::text AS v FROM "${t}" ORDER BY 1`);
          const labels = await c.query<{ v: string }>(`SELECT enumlabel AS v FROM pg_enum WHERE enumtypid = $1::regtype ORDER BY 1`, [`"${type}"`]);
          expect(used.rows.map((r) => r.v), `${t}.${col}`).toEqual(labels.rows.map((r) => r.v));
        }

        expect(Number(await scalar(c, `SELECT count(*) AS v FROM "Location" WHERE address LIKE 'Москва, ул. Тверская%'`))).toBeGreaterThan(0);
        expect(Number(await scalar(c, `SELECT count(*) AS v FROM "User" WHERE name ~ '[А-Яа-яЁё]' AND octet_length(name) > length(name)`))).toBeGreaterThan(0);
        expect(Number(await scalar(c, `SELECT count(*) AS v FROM "User" WHERE name ~ '[\\U0001F300-\\U0001FAFF]'`))).toBeGreaterThan(0);

        expect(Number(await scalar(c, `SELECT count(*) AS v FROM "MachineTelemetry" WHERE pg_column_size("rawData") > 8192`))).toBeGreaterThan(0);
        expect(Number(await scalar(c, `SELECT count(*) AS v FROM "Machine" WHERE pg_column_size(metadata) > 8192`))).toBeGreaterThan(0);
        expect(Number(await scalar(c, `SELECT pg_relation_size(reltoastrelid) AS v FROM pg_class WHERE oid = '"MachineTelemetry"'::regclass`))).toBeGreaterThan(0);
        expect(Number(await scalar(c, `SELECT count(*) AS v FROM "Machine" WHERE jsonb_typeof(metadata -> 'slots') = 'array' AND jsonb_typeof(metadata -> 'settings') = 'object'`))).toBeGreaterThan(0);

        // Elements with commas, quotes, backslashes, braces, blanks and the word NULL round-trip exactly.
        const awkward = await c.query<{ errors: string[] }>(`SELECT errors FROM "MachineTelemetry" WHERE cardinality(errors) = $1`, [ERROR_CODES.length]);
        expect(awkward.rows[0]?.errors).toEqual([...ERROR_CODES]);
        expect(Number(await scalar(c, `SELECT count(*) AS v FROM "MachineTelemetry" WHERE errors = '{}'`))).toBeGreaterThan(0);
        const comments = await c.query<{ v: string }>('SELECT DISTINCT comment AS v FROM "TaskAction" ORDER BY 1');
        expect(comments.rows.map((r) => r.v).sort()).toEqual([...COMMENTS].sort());
        expect(Number(await scalar(c, `SELECT count(*) AS v FROM "User" WHERE cardinality(roles) >= 3`))).toBeGreaterThan(0);
        expect(Number(await scalar(c, `SELECT count(*) AS v FROM "User" WHERE roles = '{}'`))).toBeGreaterThan(0);

        const spread = await c.query<{ ms: boolean; days: number }>(
          `SELECT bool_or("createdAt" <> date_trunc('second', "createdAt")) AS ms, extract(day FROM max("createdAt") - min("createdAt"))::int AS days FROM "MachineTelemetry"`,
        );
        expect(spread.rows[0]?.ms).toBe(true);
        expect(spread.rows[0]?.days).toBeGreaterThan(180);
      });
    });
  });

  it('keeps every foreign key (recreated exactly as Prisma made them) and makes exactly the requested dangling transactions', async () => {
    const built = await createTestDatabase('mono_fk');
    const bare = await createTestDatabase('mono_bare');
    try {
      await buildMonolith(built.url, { scale: SCALE, seed: 3, danglingTransactions: 7 });
      const engine = await openSchemaEngine(parseConnectionUrl('bare', bare.url, {}, []) as ParsedConnection, 'public');
      try {
        await engine.engine.applyMigrations({ migrationsList: migrationList('monolith'), filters: NO_FILTERS });
      } finally {
        await engine.close();
      }
      const expected = await withClient(bare.url, schemaDefinitions);
      await withClient(built.url, async (c) => {
        expect(await schemaDefinitions(c)).toEqual(expected);
        const { rows: fks } = await c.query<{ child: string; cols: string[]; parent: string; pcols: string[] }>(
          `SELECT conrelid::regclass::text AS child, confrelid::regclass::text AS parent,
             (SELECT array_agg(attname::text ORDER BY attnum) FROM pg_attribute WHERE attrelid = conrelid AND attnum = ANY(conkey)) AS cols,
             (SELECT array_agg(attname::text ORDER BY attnum) FROM pg_attribute WHERE attrelid = confrelid AND attnum = ANY(confkey)) AS pcols
           FROM pg_constraint WHERE contype = 'f' AND connamespace = 'public'::regnamespace`,
        );
        expect(fks).toHaveLength(15);
        for (const fk of fks) {
          const [col, pcol] = [fk.cols[0], fk.pcols[0]];
          const orphans = await scalar<string>(
            c,
            `SELECT count(*) AS v FROM ${fk.child} ch WHERE ch."${col}" IS NOT NULL AND NOT EXISTS (SELECT 1 FROM ${fk.parent} p WHERE p."${pcol}" = ch."${col}")`,
          );
          expect(Number(orphans), `${fk.child}.${col}`).toBe(0);
        }
        const dangling = await c.query<{ rows: string; machines: string }>(
          `SELECT count(*) AS rows, count(DISTINCT "machineId") AS machines FROM "Transaction" t WHERE NOT EXISTS (SELECT 1 FROM "Machine" m WHERE m.id = t."machineId")`,
        );
        expect(dangling.rows[0]).toEqual({ rows: '7', machines: '7' });
        expect(Number(await scalar(c, `SELECT count(*) AS v FROM "Transaction" WHERE "machineId" !~ '^c[0-9a-z]{24}$'`))).toBe(0);
      });
    } finally {
      await Promise.all([built.drop(), bare.drop()]);
    }
  });

  it('fails cleanly when its sessions are killed mid-load, leaving no connection behind', async () => {
    await withDatabase('mono_kill', async (db) => {
      let killed: Promise<unknown> | undefined;
      const build = buildMonolith(db.url, {
        scale: 1,
        seed: 1,
        // Parents are in; the parallel streams are about to start: kill every session of the build.
        onProgress: (table) => {
          if (table === 'Machine') killed ??= adminQuery('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1', [db.name]);
        },
      });
      await expect(build).rejects.toThrow(/terminat|EPIPE|ECONNRESET/i);
      await killed;
      let sessions = -1;
      for (let i = 0; i < 40 && sessions !== 0; i++) {
        sessions = Number((await adminQuery<{ n: string }>('SELECT count(*) AS n FROM pg_stat_activity WHERE datname = $1', [db.name])).rows[0]?.n);
        if (sessions !== 0) await new Promise((r) => setTimeout(r, 50));
      }
      expect(sessions).toBe(0);
    });
  });
});

describe('ensureRole', () => {
  it('survives six sessions racing to create the same cluster-wide role, and restores missing attributes', async () => {
    const name = `vh_race_${randomBytes(4).toString('hex')}`;
    const clients = Array.from({ length: 6 }, () => new pg.Client({ connectionString: ADMIN_URL }));
    await Promise.all(clients.map((c) => c.connect()));
    try {
      const created = await Promise.all(clients.map((c) => ensureRole(c, { name, login: false, bypassRls: true })));
      expect(created.filter(Boolean)).toHaveLength(1);
      await adminQuery(`ALTER ROLE ${name} NOBYPASSRLS`);
      expect(await ensureRole(clients[0] as pg.Client, { name, login: false, bypassRls: true })).toBe(false);
      const { rows } = await adminQuery('SELECT rolcanlogin, rolbypassrls FROM pg_roles WHERE rolname = $1', [name]);
      expect(rows).toEqual([{ rolcanlogin: false, rolbypassrls: true }]);
    } finally {
      await Promise.all(clients.map((c) => c.end()));
      await adminQuery(`DROP ROLE IF EXISTS ${name}`);
    }
  });
});
