import pg from 'pg';
import { buildMonolith } from '../../src/monolith/build-monolith.ts';
import { SERVICE_INFO, SERVICES } from '../../src/services.ts';
import { adminQuery, createTestDatabase, urlFor, type TestDatabase } from './pg.ts';
import { migrateAll, mixedTopology, perServiceTopology, sharedTopology, type Topology } from './topology.ts';

/** A generated monolith kept as a template; each test clones it (CREATE DATABASE ... TEMPLATE). */
export interface Golden {
  readonly name: string;
  clone(prefix: string): Promise<TestDatabase>;
  drop(): Promise<void>;
}

export async function buildGolden(prefix: string, scale = 1, seed = 7, danglingTransactions = 2): Promise<Golden> {
  const db = await createTestDatabase(`${prefix}_gold`);
  await buildMonolith(db.url, { scale, seed, danglingTransactions });
  return {
    name: db.name,
    async clone(p: string) {
      const name = `${db.name}_${p}_${Math.random().toString(36).slice(2, 8)}`;
      await adminQuery(`CREATE DATABASE "${name}" TEMPLATE "${db.name}"`);
      return { name, url: urlFor(name), drop: async () => { await adminQuery(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`); } };
    },
    drop: () => db.drop(),
  };
}

export type TopologyKind = 'shared' | 'per-service' | 'mixed';

/** Migrated, empty targets of a topology. */
export async function migratedTargets(kind: TopologyKind, prefix: string): Promise<Topology> {
  const make = kind === 'shared' ? sharedTopology : kind === 'per-service' ? perServiceTopology : mixedTopology;
  const topo = await make(prefix);
  await migrateAll(topo.env);
  return topo;
}

export async function sql<R extends pg.QueryResultRow = pg.QueryResultRow>(url: string, text: string, params: unknown[] = []): Promise<R[]> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    return (await c.query<R>(text, params)).rows;
  } finally {
    await c.end();
  }
}

/** Rows in every service table of a topology plus finished checkpoints (proves "nothing was written"). */
export async function targetRowCount(topo: Topology): Promise<number> {
  let n = 0;
  for (const d of topo.databases) {
    const tables = await sql<{ s: string; t: string }>(d.url, `SELECT table_schema AS s, table_name AS t FROM information_schema.tables
      WHERE table_schema = ANY($1) AND table_name <> '_prisma_migrations'`, [[...SERVICES.map((s) => SERVICE_INFO[s].schema), '_vendhub_split']]);
    for (const { s, t } of tables) n += Number((await sql<{ n: string }>(d.url, `SELECT count(*)::text AS n FROM "${s}"."${t}"`))[0]?.n ?? 0);
  }
  return n;
}

/** A clone of the golden source, migrated targets of `kind`, and the env naming both; dropped after `fn`. */
export async function withSplitEnv<T>(
  golden: Golden, kind: TopologyKind, prefix: string,
  fn: (env: Record<string, string>, topo: Topology, src: TestDatabase) => Promise<T>,
): Promise<T> {
  const src = await golden.clone(prefix);
  const topo = await migratedTargets(kind, prefix);
  try {
    return await fn({ ...(topo.env as Record<string, string>), SOURCE_DATABASE_URL: src.url }, topo, src);
  } finally {
    await topo.drop();
    await src.drop();
  }
}
