/**
 * npm run bench:split — the split against (b) a raw binary COPY pipe of the same tables and
 * columns and (c) what a Prisma user would write (findMany pages into createMany), on the same
 * generated source, measured in one run; then peak memory of the split at two source sizes.
 *
 *   npx tsx bench/split.bench.ts [--scale 100] [--large-scale 400] [--parallel 2] [--skip-prisma]
 *
 * Needs the PostgreSQL of the tests (TEST_ADMIN_DATABASE_URL, default postgres@127.0.0.1:5432).
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { pipeline } from 'node:stream/promises';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { from as copyFrom, to as copyTo } from 'pg-copy-streams';
import { PrismaPg } from '@prisma/adapter-pg';
import { PrismaClient as MonolithClient, Prisma as MonolithPrisma } from '../src/generated/monolith/client.ts';
import { createClient } from '../src/clients/create-client.ts';
import { loadDatabaseConfig, type ServiceConfig } from '../src/config/database-config.ts';
import { migrateService } from '../src/migrate/migrate-service.ts';
import { buildMonolith } from '../src/monolith/build-monolith.ts';
import { SERVICES } from '../src/services.ts';
import { loadPlan } from '../src/split/load-plan.ts';
import { openSplitContext } from '../src/split/split-context.ts';
import type { TableMapping } from '../src/split/split-plan.ts';
import { verifySplit } from '../src/split/verify-split.ts';
import { copyInSql, chunkSelect } from '../src/split/copy-chunk.ts';
import { qualified } from '../src/sql/quote.ts';
import { BIN } from '../test/helpers/cli.ts';
import { adminQuery, urlFor } from '../test/helpers/pg.ts';

const { values: args } = parseArgs({
  options: {
    scale: { type: 'string', default: '100' },
    'large-scale': { type: 'string', default: '400' },
    parallel: { type: 'string', default: '2' },
    'skip-prisma': { type: 'boolean', default: false },
    'skip-large': { type: 'boolean', default: false },
  },
});
const scale = Number(args.scale);
const parallel = Number(args.parallel);
const tag = `bench_${process.pid}`;
const s = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
const log = (line: string) => console.log(line);

async function freshDb(name: string): Promise<string> {
  await adminQuery(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
  await adminQuery(`CREATE DATABASE "${name}"`);
  return urlFor(name);
}

async function freshTargets(name: string): Promise<Record<string, string>> {
  const env = { DATABASE_URL: await freshDb(name) };
  const cfg = loadDatabaseConfig(env);
  for (const sv of SERVICES) await migrateService(cfg[sv] as ServiceConfig);
  return env;
}

/** Runs the CLI split in a child process, sampling its peak RSS (VmHWM). */
async function splitInChild(env: Record<string, string>, extra: string[] = []): Promise<{ ms: number; peakMb: number; code: number | null }> {
  const started = performance.now();
  const child = spawn(process.execPath, [BIN, 'split', 'run', '--no-verify', '--no-progress', '--parallel', String(parallel), ...extra], {
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', ...env }, stdio: ['ignore', 'ignore', 'pipe'],
  });
  let err = '';
  child.stderr.on('data', (d) => (err += d));
  let peakKb = 0;
  const timer = setInterval(() => {
    try {
      const m = readFileSync(`/proc/${child.pid}/status`, 'utf8').match(/VmHWM:\s+(\d+) kB/);
      if (m) peakKb = Math.max(peakKb, Number(m[1]));
    } catch { /* exited */ }
  }, 50);
  const code = await new Promise<number | null>((r) => child.on('close', r));
  clearInterval(timer);
  if (code !== 0) throw new Error(`split exited ${code}: ${err.slice(-2000)}`);
  return { ms: performance.now() - started, peakMb: peakKb / 1024, code };
}

/** (b): one binary COPY pipe per table, parents first, no chunks, checkpoints or checks. */
async function rawCopy(srcUrl: string, tgtUrl: string, tables: readonly TableMapping[], streams: number): Promise<number> {
  const started = performance.now();
  const done = new Set<string>();
  const queue = [...tables];
  const worker = async () => {
    const src = new pg.Client({ connectionString: srcUrl });
    const tgt = new pg.Client({ connectionString: tgtUrl });
    await src.connect();
    await tgt.connect();
    try {
      for (;;) {
        const i = queue.findIndex((t) => t.dependsOn.every((d) => done.has(d)));
        if (queue.length === 0) break;
        if (i < 0) { await new Promise((r) => setTimeout(r, 5)); continue; }
        const [t] = queue.splice(i, 1) as [TableMapping];
        await pipeline(src.query(copyTo(`COPY (${chunkSelect(t, { lo: null, hi: null })}) TO STDOUT WITH (FORMAT ${t.format})`)), tgt.query(copyFrom(copyInSql(t))));
        done.add(t.model);
      }
    } finally {
      await src.end();
      await tgt.end();
    }
  };
  await Promise.all(Array.from({ length: streams }, worker));
  return performance.now() - started;
}

/** (c): what a Prisma user writes: findMany pages (cursor on id) into createMany, table by table. */
async function prismaCopy(srcUrl: string, env: Record<string, string>, tables: readonly TableMapping[]): Promise<number> {
  const started = performance.now();
  const pool = new pg.Pool({ connectionString: srcUrl, max: 2 });
  const mono = new MonolithClient({ adapter: new PrismaPg(pool) });
  const clients = Object.fromEntries(SERVICES.map((sv) => [sv, createClient(sv, { env })]));
  const jsonFields = new Set(['metadata', 'rawData', 'changes']);
  try {
    for (const t of tables) {
      const delegate = t.model[0]?.toLowerCase() + t.model.slice(1);
      const from = (mono as unknown as Record<string, { findMany(a: unknown): Promise<Record<string, unknown>[]> }>)[delegate];
      const to = (clients[t.service] as unknown as Record<string, { createMany(a: unknown): Promise<unknown> }>)[delegate];
      let cursor: string | undefined;
      for (;;) {
        const page = await from!.findMany({ take: 1000, orderBy: { id: 'asc' }, ...(cursor ? { cursor: { id: cursor }, skip: 1 } : {}) });
        if (page.length === 0) break;
        const data = page.map((row) => Object.fromEntries(Object.entries(row).map(([k, v]) => [k, v === null && jsonFields.has(k) ? MonolithPrisma.DbNull : v])));
        await to!.createMany({ data });
        cursor = page[page.length - 1]?.id as string;
      }
    }
  } finally {
    await mono.$disconnect();
    await pool.end();
    for (const c of Object.values(clients)) await c.close();
  }
  return performance.now() - started;
}

async function main() {
  log(`bench:split  scale ${scale} (${(scale * 10_000).toLocaleString('en-US')} telemetry rows), parallel ${parallel}, ${new Date().toISOString()}`);
  const srcUrl = await freshDb(`${tag}_src`);
  let t0 = performance.now();
  const built = await buildMonolith(srcUrl, { scale, seed: 1 });
  const totalRows = Object.values(built.counts).reduce((a, b) => a + b, 0);
  log(`source: ${totalRows.toLocaleString('en-US')} rows (MachineTelemetry ${built.counts.MachineTelemetry.toLocaleString('en-US')}) built in ${s(performance.now() - t0)}`);

  const envA = { ...(await freshTargets(`${tag}_a`)), SOURCE_DATABASE_URL: srcUrl };
  const a = await splitInChild(envA);
  log(`(a) split, ${parallel} streams:             ${s(a.ms)}  ${Math.round(totalRows / (a.ms / 1000)).toLocaleString('en-US')} rows/s  peak RSS ${a.peakMb.toFixed(0)} MB`);
  const envA1 = { ...(await freshTargets(`${tag}_a1`)), SOURCE_DATABASE_URL: srcUrl };
  const a1 = await splitInChild({ ...envA1 }, ['--parallel', '1']);
  log(`(a1) split, 1 stream:                   ${s(a1.ms)}  ${Math.round(totalRows / (a1.ms / 1000)).toLocaleString('en-US')} rows/s`);

  t0 = performance.now();
  const v = await verifySplit(envA, { parallel });
  const verifyMs = performance.now() - t0;
  log(`verify of (a):                          ${s(verifyMs)}  ${v.ok ? 'equal' : 'DIFFERENT'}`);

  const ctx = openSplitContext(envA, { parallel: 1 });
  const { plan } = await loadPlan(ctx, {});
  await ctx.close();
  const envB = await freshTargets(`${tag}_b`);
  const b = await rawCopy(srcUrl, envB.DATABASE_URL as string, plan.tables, parallel);
  log(`(b) raw binary COPY pipe, ${parallel} streams:   ${s(b)}  ${Math.round(totalRows / (b / 1000)).toLocaleString('en-US')} rows/s`);
  const envB1 = await freshTargets(`${tag}_b1`);
  const b1 = await rawCopy(srcUrl, envB1.DATABASE_URL as string, plan.tables, 1);
  log(`(b1) raw binary COPY pipe, 1 stream:    ${s(b1)}  ${Math.round(totalRows / (b1 / 1000)).toLocaleString('en-US')} rows/s`);

  let c: number | undefined;
  if (!args['skip-prisma']) {
    const envC = await freshTargets(`${tag}_c`);
    c = await prismaCopy(srcUrl, envC, plan.tables);
    log(`(c) Prisma findMany → createMany:        ${s(c)}  ${Math.round(totalRows / (c / 1000)).toLocaleString('en-US')} rows/s`);
  }

  log('');
  log(`ratio (a)/(b)   wall, ${parallel} streams each:  ${(a.ms / b).toFixed(2)}   (target ≤ 1.25)`);
  log(`ratio (a1)/(b1) wall, 1 stream each:   ${(a1.ms / b1).toFixed(2)}   (target ≤ 1.25)`);
  if (c !== undefined) log(`ratio (c)/(a)   wall:                  ${(c / a.ms).toFixed(1)}   (target ≥ 10)`);
  log(`ratio verify/(a) wall:                  ${(verifyMs / a.ms).toFixed(2)}   (target ≤ 0.5)`);

  if (!args['skip-large']) {
    const large = Number(args['large-scale']);
    const bigUrl = await freshDb(`${tag}_bigsrc`);
    t0 = performance.now();
    const bigBuilt = await buildMonolith(bigUrl, { scale: large, seed: 1 });
    log('');
    log(`large source: MachineTelemetry ${bigBuilt.counts.MachineTelemetry.toLocaleString('en-US')} rows, built in ${s(performance.now() - t0)}`);
    const big = await splitInChild({ ...(await freshTargets(`${tag}_big`)), SOURCE_DATABASE_URL: bigUrl });
    log(`(a) split of the large source:          ${s(big.ms)}  peak RSS ${big.peakMb.toFixed(0)} MB`);
    log(`peak RSS large/small:                   ${(big.peakMb / a.peakMb).toFixed(3)}   (target ≤ 1.10; each ≤ 200 MB)`);
  }
  for (const d of ['src', 'a', 'a1', 'b', 'b1', 'c', 'bigsrc', 'big']) await adminQuery(`DROP DATABASE IF EXISTS "${tag}_${d}" WITH (FORCE)`);
}

await main();
