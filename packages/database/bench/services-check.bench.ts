/**
 * npm run bench:services-check — `vendhub-db services check` on a generated tree of 500 service
 * files (copies of the test corpus's files with renamed functions, spread over the five services
 * and a service that owns no data), against a baseline measured in the same run: reading and
 * parsing the same files with the same parser and nothing else. Also the whole CLI as a
 * subprocess (start-up included), which is what "500 files in under 5 s" is about, with its CPU
 * time (user+sys) next to the wall time and the load average, and its start-up alone (an empty folder).
 *
 *   npx tsx bench/services-check.bench.ts [--files 500] [--runs 3]
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import ts from 'typescript';
import { checkTree } from '../src/services-check/check-tree.ts';

const { values: args } = parseArgs({ options: { files: { type: 'string', default: '500' }, runs: { type: 'string', default: '3' } } });
const FILES = Number(args.files);
const RUNS = Number(args.runs);
const CORPUS = fileURLToPath(new URL('../test/fixtures/services-corpus/services', import.meta.url));
const BIN = fileURLToPath(new URL('../bin/vendhub-db.js', import.meta.url));

function corpusSources(dir: string, out: { name: string; text: string }[] = []): { name: string; text: string }[] {
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory() && e.name !== 'generated') corpusSources(p, out);
    else if (/\.(?:[cm]?js|ts)$/.test(e.name) && !e.name.includes('broken') && !e.name.includes('.generated.')) out.push({ name: e.name, text: readFileSync(p, 'utf8') });
  }
  return out;
}

function generate(root: string): string[] {
  const sources = corpusSources(CORPUS);
  const services = ['auth', 'machines', 'inventory', 'tasks', 'shared', 'reports'];
  const paths: string[] = [];
  for (let i = 0; i < FILES; i++) {
    const src = sources[i % sources.length]!;
    const dir = join(root, 'services', services[i % services.length]!, 'routes', `group${i % 17}`);
    mkdirSync(dir, { recursive: true });
    const file = join(dir, `${i}-${src.name}`);
    writeFileSync(file, src.text.replace(/\basync function (\w+)/g, `async function $1_${i}`));
    paths.push(file);
  }
  return paths;
}

/**
 * The CLI as a subprocess on `dir`: wall time, and CPU time (user+sys) from bash's `time`, since
 * on a busy machine wall time says little and CPU time says what the check costs.
 */
function timedCli(dir: string, expectedExit: number): { wall: number; cpu: number } {
  const t = performance.now();
  const res = spawnSync('bash', ['-c', 'TIMEFORMAT="cpu %U %S"; time "$0" "$@" >/dev/null', process.execPath, BIN, 'services', 'check', dir, '--format', 'json'], { encoding: 'utf8' });
  const wall = performance.now() - t;
  const cpu = /cpu ([\d.]+) ([\d.]+)\s*$/.exec(res.stderr);
  if (res.status !== expectedExit || !cpu) throw new Error(`services check ${dir} exited ${res.status}: ${res.stderr.slice(0, 500)}`);
  return { wall, cpu: (Number(cpu[1]) + Number(cpu[2])) * 1000 };
}

const cpus = (await import('node:os')).cpus().length;
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

const loadBefore = loadavg();
const root = mkdtempSync(join(tmpdir(), 'vh-bench-services-'));
try {
  const paths = generate(root);
  const parseOnly: number[] = [];
  const check: number[] = [];
  const cli: number[] = [];
  const cliCpu: number[] = [];
  const startWall: number[] = [];
  const startCpu: number[] = [];
  const empty = join(root, 'empty');
  mkdirSync(empty);
  let findings = 0;
  for (let r = 0; r < RUNS; r++) {
    let t = performance.now();
    for (const p of paths) ts.createSourceFile(p, readFileSync(p, 'utf8'), ts.ScriptTarget.Latest, true, p.endsWith('.ts') ? ts.ScriptKind.TS : ts.ScriptKind.JSX);
    parseOnly.push(performance.now() - t);
    t = performance.now();
    findings = checkTree({ dir: root }).findings.length;
    check.push(performance.now() - t);
    t = performance.now();
    // bash's `time` adds the child's CPU seconds (user+sys) on the last stderr line: on a busy
    // machine wall time says little, CPU time says what the check costs.
    const run = timedCli(root, 20);
    cli.push(run.wall);
    cliCpu.push(run.cpu);
    const start = timedCli(empty, 0);
    startWall.push(start.wall);
    startCpu.push(start.cpu);
  }
  const ms = (x: number) => `${Math.round(x)} ms`;
  console.log(`bench:services-check — ${paths.length} files, ${findings} findings, median of ${RUNS} runs (load average ${loadBefore.map((x) => x.toFixed(1)).join(' ')} before, ${loadavg().map((x) => x.toFixed(1)).join(' ')} after, on ${cpus} cores)`);
  console.log(`  baseline: read + parse only (TypeScript parser) ${ms(median(parseOnly))}`);
  console.log(`  checkTree (in process)                          ${ms(median(check))}  = ${(median(check) / median(parseOnly)).toFixed(2)}× the baseline`);
  console.log(`  vendhub-db services check (subprocess, start-up included) wall ${ms(median(cli))}, cpu ${ms(median(cliCpu))}  ${median(cli) < 5000 ? '< 5 s' : '>= 5 s wall: over the target'}`);
  console.log(`  of which start-up (services check of an empty folder)     wall ${ms(median(startWall))}, cpu ${ms(median(startCpu))}`);
} finally {
  rmSync(root, { recursive: true, force: true });
}
