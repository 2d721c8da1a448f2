/**
 * npm run bench:split — the split side by side with what a user would pick instead, on one
 * generated source, in one run, the methods alternated `--rounds` times (medians printed):
 *   (a) split:  `vendhub-db migrate all` + `vendhub-db split run --no-verify --parallel N` (CLI child
 *               processes, start-up included; peak RSS of the split sampled)
 *   (p) pgcopydb clone --table-jobs N --index-jobs N (Debian package `pgcopydb`; skipped with a line
 *               saying how to install it when missing)
 *   (d) pg_dump -Fd -jN into a directory + pg_restore -jN
 *   (l) physical limit: raw binary COPY of the same tables and columns into the migrated tables with
 *               every index and constraint dropped, N streams over key ranges, no checkpoints
 * then, once: verify of the last (a), optionally (c) Prisma findMany → createMany, and the peak
 * memory of the split of a larger source.
 *
 *   npx tsx bench/split.bench.ts [--scale 100] [--rounds 3] [--parallel 2] [--chunk-rows 100000]
 *                                [--large-scale 1000 | --skip-large] [--prisma] [--split-args "..."]
 *                                [--source-db NAME] [--large-source-db NAME]
 *
 * --source-db (--large-source-db: the same for the large source) keeps the generated source in
 * database NAME and reuses it on the next run when it was built at the same scale (the scale-1000
 * source takes 5–13 minutes to build on a busy machine).
 *
 * Needs the PostgreSQL of the tests (TEST_ADMIN_DATABASE_URL, default postgres@127.0.0.1:5432) and
 * pg_dump/pg_restore on PATH.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { from as copyFrom, to as copyTo } from 'pg-copy-streams';
import { PrismaPg } from '@prisma/adapter-pg';
import { PrismaClient as MonolithClient, Prisma as MonolithPrisma } from '../src/generated/monolith/client.ts';
import { createClient } from '../src/clients/create-client.ts';
import { buildMonolith, type MonolithCounts } from '../src/monolith/build-monolith.ts';
import { SERVICES } from '../src/services.ts';
import { loadPlan } from '../src/split/load-plan.ts';
import { withSplitContext } from '../src/split/split-context.ts';
import type { TableMapping } from '../src/split/split-plan.ts';
import { verifySplit } from '../src/split/verify-split.ts';
import { copyInSql, chunkSelect } from '../src/split/copy-chunk.ts';
import { qualified, quoteIdent } from '../src/sql/quote.ts';
import { BIN } from '../test/helpers/cli.ts';
import { adminQuery, urlFor } from '../test/helpers/pg.ts';

const { values: args } = parseArgs({
  options: {
    scale: { type: 'string', default: '100' },
    rounds: { type: 'string', default: '3' },
    'large-scale': { type: 'string', default: '1000' },
    parallel: { type: 'string', default: '2' },
    'chunk-rows': { type: 'string' },
    'split-args': { type: 'string', default: '' },
    prisma: { type: 'boolean', default: false },
    'skip-large': { type: 'boolean', default: false },
    only: { type: 'string', default: 'a,p,d,l' },
    'source-db': { type: 'string' },
    'large-source-db': { type: 'string' },
    /** More split variants measured in the same rounds: name=args (words like KEY=value set the environment). */
    variant: { type: 'string', multiple: true, default: [] },
  },
});
const scale = Number(args.scale);
const parallel = Number(args.parallel);
const rounds = Number(args.rounds);
const only = new Set(args.only.split(','));
const splitExtra = [...(args['chunk-rows'] ? ['--chunk-rows', args['chunk-rows']] : []), ...args['split-args'].split(' ').filter(Boolean)];
const tag = `bench_${process.pid}`;
const s = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
const log = (line: string) => console.log(line);
const loadavg = () => readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
const childEnv = (env: Record<string, string>) => ({ PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', ...env });

async function freshDb(name: string): Promise<string> {
  await adminQuery(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
  await adminQuery(`CREATE DATABASE "${name}"`);
  return urlFor(name);
}
const dropDb = (name: string) => adminQuery(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);

/** Runs a command, sampling its peak RSS (VmHWM of the process itself); throws on a non-zero exit. */
async function timed(cmd: string, argv: string[], env: Record<string, string>, what: string): Promise<{ ms: number; peakMb: number }> {
  const started = performance.now();
  const child = spawn(cmd, argv, { env: childEnv(env), stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  child.stderr.on('data', (d) => (err = (err + d).slice(-4000)));
  let peakKb = 0;
  const timer = setInterval(() => {
    try {
      const m = readFileSync(`/proc/${child.pid}/status`, 'utf8').match(/VmHWM:\s+(\d+) kB/);
      if (m) peakKb = Math.max(peakKb, Number(m[1]));
    } catch { /* exited */ }
  }, 50);
  const code = await new Promise<number | null>((r) => child.on('close', r));
  clearInterval(timer);
  if (code !== 0) throw new Error(`${what} exited ${code}: ${err}`);
  return { ms: performance.now() - started, peakMb: peakKb / 1024 };
}

const variants = new Map(args.variant.map((v) => {
  const [name, ...rest] = v.split('=');
  const words = rest.join('=').split(' ').filter(Boolean);
  return [`a:${name}`, { args: words.filter((w) => !/^[A-Z_]+=/.test(w)), env: Object.fromEntries(words.filter((w) => /^[A-Z_]+=/.test(w)).map((w) => w.split('=') as [string, string])) }];
}));

/** (a): migrate all + split run, both through the CLI, into a new database. */
async function split(srcUrl: string, name: string, variant?: { args: string[]; env: Record<string, string> }): Promise<{ ms: number; migrateMs: number; peakMb: number; env: Record<string, string> }> {
  ensureBuiltCli(); // again: a src/ edit during a long run would send the CLI through tsx
  const env = { DATABASE_URL: await freshDb(name), SOURCE_DATABASE_URL: srcUrl };
  const m = await timed(process.execPath, [BIN, 'migrate', 'all'], env, 'migrate all');
  const r = await timed(process.execPath, [BIN, 'split', 'run', '--no-verify', '--no-progress', '--parallel', String(parallel), ...splitExtra, ...(variant?.args ?? [])], { ...env, ...(variant?.env ?? {}) }, 'split run');
  return { ms: m.ms + r.ms, migrateMs: m.ms, peakMb: r.peakMb, env };
}

function hasPgcopydb(): boolean {
  return spawnSync('pgcopydb', ['--version'], { stdio: 'ignore' }).status === 0;
}

/**
 * (p): pgcopydb clone. It kills its own process group when it fails, hence setsid. `--no-comments`:
 * comments on extensions it skipped fail on restore; the `auth` schema (whose functions the RLS
 * policies call) comes along with the rest of the source.
 */
async function pgcopydb(srcUrl: string, name: string): Promise<number> {
  const tgt = await freshDb(name);
  const dir = mkdtempSync(join(tmpdir(), 'bench-pgcopydb-'));
  try {
    const r = await timed('setsid', ['pgcopydb', 'clone', '--source', srcUrl, '--target', tgt, '--dir', dir,
      '--table-jobs', String(parallel), '--index-jobs', String(parallel), '--no-comments', '--no-owner'], {}, 'pgcopydb clone');
    return r.ms;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** (d): pg_dump -Fd -jN, then pg_restore -jN into a new database (both timed). */
async function dumpRestore(srcUrl: string, name: string): Promise<number> {
  const tgt = await freshDb(name);
  const dir = join(mkdtempSync(join(tmpdir(), 'bench-dump-')), 'd');
  try {
    const a = await timed('pg_dump', ['-Fd', `-j${parallel}`, '-f', dir, '-d', srcUrl], {}, 'pg_dump');
    const b = await timed('pg_restore', [`-j${parallel}`, '--no-owner', '-d', tgt, dir], {}, 'pg_restore');
    return a.ms + b.ms;
  } finally {
    rmSync(join(dir, '..'), { recursive: true, force: true });
  }
}

/** Migrated tables with every index and constraint removed (what (l) copies into). */
async function bareTargets(srcUrl: string, name: string): Promise<string> {
  const env = { DATABASE_URL: await freshDb(name), SOURCE_DATABASE_URL: srcUrl };
  await timed(process.execPath, [BIN, 'migrate', 'all'], env, 'migrate all');
  const c = new pg.Client({ connectionString: env.DATABASE_URL });
  await c.connect();
  try {
    const cons = await c.query<{ t: string; n: string }>(
      `SELECT k.conrelid::regclass::text AS t, k.conname AS n FROM pg_constraint k JOIN pg_namespace s ON s.oid = k.connamespace
        WHERE s.nspname LIKE '%\\_service' AND k.contype IN ('f','p','u') ORDER BY k.contype = 'f' DESC`,
    );
    for (const r of cons.rows) await c.query(`ALTER TABLE ${r.t} DROP CONSTRAINT ${quoteIdent(r.n)}`);
    const idx = await c.query<{ i: string }>(`SELECT indexrelid::regclass::text AS i FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_namespace s ON s.oid = c.relnamespace WHERE s.nspname LIKE '%\\_service'`);
    for (const r of idx.rows) await c.query(`DROP INDEX ${r.i}`);
  } finally {
    await c.end();
  }
  return env.DATABASE_URL;
}

/** (l): binary COPY pipes, N streams over key-range halves of each table, largest first. */
async function rawCopy(srcUrl: string, tgtUrl: string, tables: readonly TableMapping[], streams: number): Promise<number> {
  const src0 = new pg.Client({ connectionString: srcUrl });
  await src0.connect();
  const queue: { t: TableMapping; lo: string | null; hi: string | null }[] = [];
  for (const t of [...tables].sort((x, y) => y.estimate - x.estimate)) {
    if (!t.sourceKey || t.estimate < 50_000) { queue.push({ t, lo: null, hi: null }); continue; }
    const key = quoteIdent(t.sourceKey);
    const cuts = (await src0.query<{ b: string[] }>(`SELECT percentile_disc(ARRAY(SELECT g::float8 / $1 FROM generate_series(1, $1 - 1) g)) WITHIN GROUP (ORDER BY ${key}) AS b FROM ${qualified(t.sourceSchema, t.sourceTable)}`, [streams])).rows[0]?.b ?? [];
    const bounds = [null, ...cuts, null];
    for (let i = 0; i + 1 < bounds.length; i++) queue.push({ t, lo: bounds[i] ?? null, hi: bounds[i + 1] ?? null });
  }
  await src0.end();
  const started = performance.now();
  const worker = async () => {
    const src = new pg.Client({ connectionString: srcUrl });
    const tgt = new pg.Client({ connectionString: tgtUrl });
    await src.connect();
    await tgt.connect();
    try {
      for (let job = queue.shift(); job; job = queue.shift()) {
        await pipeline(src.query(copyTo(`COPY (${chunkSelect(job.t, job)}) TO STDOUT WITH (FORMAT ${job.t.format})`)), tgt.query(copyFrom(copyInSql(job.t))));
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

const median = (xs: readonly number[]) => {
  const v = [...xs].sort((a, b) => a - b);
  return v.length % 2 ? (v[(v.length - 1) / 2] as number) : ((v[v.length / 2 - 1] as number) + (v[v.length / 2] as number)) / 2;
};

async function main() {
  log(`bench:split  scale ${scale} (${(scale * 10_000).toLocaleString('en-US')} telemetry rows), parallel ${parallel}, ${rounds} rounds, ${new Date().toISOString()}`);
  log(`load average at start: ${loadavg()} (2 cores, shared)`);
  ensureBuiltCli();
  const srcName = args['source-db'] ?? `${tag}_src`;
  let t0 = performance.now();
  const { url: srcUrl, counts } = await source(srcName, scale);
  const totalRows = Object.values(counts).reduce((a, b) => a + b, 0);
  log(`source: ${totalRows.toLocaleString('en-US')} rows (MachineTelemetry ${counts.MachineTelemetry.toLocaleString('en-US')}) ${args['source-db'] ? `in ${srcName}, ` : ''}ready in ${s(performance.now() - t0)}`);

  const { plan } = await withSplitContext({ SOURCE_DATABASE_URL: srcUrl, DATABASE_URL: urlFor('postgres') }, { parallel: 1 }, (ctx) => loadPlan(ctx, {}));

  const pgcopydbThere = hasPgcopydb();
  if (only.has('p') && !pgcopydbThere) log('(p) pgcopydb: SKIPPED, not installed (Debian: `apt-get install -y pgcopydb`, after `apt-get update`)');
  const methods = ['a', ...variants.keys(), 'p', 'd', 'l'].filter((m) => (only.has(m) || m.startsWith('a:')) && (m !== 'p' || pgcopydbThere));
  const times: Record<string, number[]> = Object.fromEntries(methods.map((m) => [m, []]));
  const peaks: number[] = [];
  const migrates: number[] = [];
  let lastSplitEnv: Record<string, string> | undefined;
  for (let r = 0; r < rounds; r++) {
    const order = methods.map((_, i) => methods[(i + r) % methods.length] as string);
    for (const m of order) {
      const name = `${tag}_${m.replace(/\W/g, '_')}`;
      let ms: number;
      if (m === 'a') {
        if (lastSplitEnv) await dropDb(`${tag}_a`);
        const x = await split(srcUrl, name);
        ms = x.ms;
        peaks.push(x.peakMb);
        migrates.push(x.migrateMs);
        lastSplitEnv = x.env;
        log(`round ${r + 1} (a) split (migrate ${s(x.migrateMs)} + run): ${s(ms)}  peak RSS ${x.peakMb.toFixed(0)} MB  [load ${loadavg()}]`);
      } else if (m.startsWith('a:')) {
        const x = await split(srcUrl, name, variants.get(m));
        ms = x.ms;
        await dropDb(name);
        log(`round ${r + 1} (${m}) split ${[...(variants.get(m)?.args ?? []), ...Object.entries(variants.get(m)?.env ?? {}).map(([k, v]) => `${k}=${v}`)].join(' ')}: ${s(ms)}  peak RSS ${x.peakMb.toFixed(0)} MB  [load ${loadavg()}]`);
      } else {
        if (m === 'p') ms = await pgcopydb(srcUrl, name);
        else if (m === 'd') ms = await dumpRestore(srcUrl, name);
        else ms = await rawCopy(srcUrl, await bareTargets(srcUrl, name), plan.tables, parallel);
        await dropDb(name);
        log(`round ${r + 1} (${m}) ${{ p: 'pgcopydb clone', d: 'pg_dump + pg_restore', l: 'raw COPY, no indexes' }[m]}: ${s(ms)}  [load ${loadavg()}]`);
      }
      (times[m] as number[]).push(ms);
    }
  }

  const med = Object.fromEntries(methods.map((m) => [m, median(times[m] as number[])]));
  const label: Record<string, string> = {
    a: `(a) split: migrate all + split run --parallel ${parallel}`,
    p: `(p) pgcopydb clone --table-jobs ${parallel} --index-jobs ${parallel}`,
    d: `(d) pg_dump -Fd -j${parallel} + pg_restore -j${parallel}`,
    l: `(l) physical limit: binary COPY, no indexes, ${parallel} streams`,
  };
  log('');
  log(`medians of ${rounds} (${totalRows.toLocaleString('en-US')} rows), load average now ${loadavg()}:`);
  for (const m of methods) log(`${(label[m] ?? `(${m}) split variant`).padEnd(58)} ${s(med[m] as number).padStart(9)}  ${Math.round(totalRows / ((med[m] as number) / 1000)).toLocaleString('en-US').padStart(9)} rows/s   [${(times[m] as number[]).map(s).join(', ')}]`);
  if (med.a !== undefined) {
    log(`  of which migrate all: median ${s(median(migrates))}; split peak RSS max ${Math.max(...peaks).toFixed(0)} MB`);
    if (med.p !== undefined) log(`ratio (a)/(p) split / pgcopydb:        ${(med.a / med.p).toFixed(2)}   (target ≤ 1.00)`);
    if (med.d !== undefined) log(`ratio (a)/(d) split / dump+restore:    ${(med.a / med.d).toFixed(2)}   (target ≤ 0.70)`);
    if (med.l !== undefined) log(`ratio (a)/(l) split / physical limit:  ${(med.a / med.l).toFixed(2)}`);
    for (const v of variants.keys()) log(`ratio (${v})/(a) variant / default:   ${((med[v] as number) / med.a).toFixed(2)}`);
  }

  if (lastSplitEnv) {
    t0 = performance.now();
    const v = await withSplitContext(lastSplitEnv, { parallel }, (ctx) => verifySplit(ctx, { parallel }));
    log(`verify of the last (a):                ${s(performance.now() - t0)}  ${v.ok ? 'equal' : 'DIFFERENT'}`);
    if (args.prisma) {
      const c = await prismaCopy(srcUrl, { DATABASE_URL: await bareTargetsMigrated(srcUrl, `${tag}_c`) }, plan.tables);
      log(`(c) Prisma findMany → createMany:       ${s(c)}   ratio (c)/(a) ${(c / (med.a as number)).toFixed(1)} (target ≥ 10)`);
      await dropDb(`${tag}_c`);
    }
    await dropDb(`${tag}_a`);
  }

  if (!args['skip-large'] && med.a !== undefined) {
    const large = Number(args['large-scale']);
    if (!args['source-db']) await dropDb(srcName);
    t0 = performance.now();
    const big = await source(args['large-source-db'] ?? `${tag}_bigsrc`, large);
    const bigUrl = big.url;
    log('');
    log(`large source: MachineTelemetry ${big.counts.MachineTelemetry.toLocaleString('en-US')} rows, ready in ${s(performance.now() - t0)}`);
    const bigRun = await split(bigUrl, `${tag}_big`);
    log(`(a) split of the large source:          ${s(bigRun.ms)}  peak RSS ${bigRun.peakMb.toFixed(0)} MB  [load ${loadavg()}]`);
    log(`peak RSS large/small:                   ${(bigRun.peakMb / Math.max(...peaks)).toFixed(3)}   (target ≤ 1.10; each ≤ 200 MB)`);
  }
  for (const d of ['src', 'a', 'p', 'd', 'l', 'c', 'bigsrc', 'big']) await dropDb(`${tag}_${d}`);
  log(`load average at the end: ${loadavg()}`);
}

/** Newest modification time of any file under `dir`. */
function newestMtime(dir: string): number {
  return Math.max(0, ...readdirSync(dir, { withFileTypes: true }).map((e) => (e.isDirectory() ? newestMtime(join(dir, e.name)) : statSync(join(dir, e.name)).mtimeMs)));
}

/**
 * The CLI runs dist/ only when it is newer than every file under src/, and otherwise src/ through
 * tsx, which costs start-up time and ~25 MB of RSS: build it first, so (a) measures what a user runs.
 */
function ensureBuiltCli(): void {
  const pkg = dirname(dirname(BIN));
  const built = join(pkg, 'dist', 'cli', 'main.js');
  if (existsSync(built) && statSync(built).mtimeMs >= newestMtime(join(pkg, 'src'))) return;
  log('dist/ is older than src/: running `npm run build` first (the CLI would otherwise run src/ through tsx)');
  const r = spawnSync('npm', ['run', 'build'], { cwd: pkg, stdio: ['ignore', 'ignore', 'inherit'] });
  if (r.status !== 0) throw new Error('npm run build failed');
}

type SourceCounts = MonolithCounts;

/**
 * The generated source: database `name`, reused when a previous run left it built at this scale
 * (its row counts are kept in the database's comment), otherwise built anew and VACUUM ANALYZEd.
 */
async function source(name: string, atScale: number): Promise<{ url: string; counts: SourceCounts }> {
  const found = await adminQuery<{ c: string | null }>(`SELECT shobj_description(oid, 'pg_database') AS c FROM pg_database WHERE datname = $1`, [name]);
  const note = found.rows[0]?.c;
  const kept = note?.startsWith('{') ? (JSON.parse(note) as { benchSource?: { scale: number; counts: SourceCounts } }).benchSource : undefined;
  if (kept?.scale === atScale) return { url: urlFor(name), counts: kept.counts };
  const url = await freshDb(name);
  const built = await buildMonolith(url, { scale: atScale, seed: 1 });
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    await c.query('VACUUM ANALYZE'); // hint bits and statistics, as on a settled production source
  } finally {
    await c.end();
  }
  const note2 = JSON.stringify({ benchSource: { scale: atScale, counts: built.counts } }).replace(/'/g, "''");
  await adminQuery(`COMMENT ON DATABASE ${quoteIdent(name)} IS '${note2}'`);
  return { url, counts: built.counts };
}

/** A migrated target database (for (c)). */
async function bareTargetsMigrated(srcUrl: string, name: string): Promise<string> {
  const env = { DATABASE_URL: await freshDb(name), SOURCE_DATABASE_URL: srcUrl };
  await timed(process.execPath, [BIN, 'migrate', 'all'], env, 'migrate all');
  return env.DATABASE_URL;
}

await main();
