import { cpSync, mkdtempSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { analyzeSource } from '../src/services-check/analyze-source.ts';
import { checkTree } from '../src/services-check/check-tree.ts';
import { FINDING_KINDS } from '../src/services-check/finding.ts';
import { loadOwnership } from '../src/services-check/ownership.ts';
import { runCli } from './helpers/cli.ts';

const CORPUS = fileURLToPath(new URL('./fixtures/services-corpus', import.meta.url));
const tmpDirs: string[] = [];
const tmp = () => {
  const d = mkdtempSync(join(tmpdir(), 'vh-services-'));
  tmpDirs.push(d);
  return d;
};
afterAll(() => {
  for (const d of tmpDirs) rmSync(d, { recursive: true, force: true });
});

interface Expected {
  findings: string[];
  unparsable: string[];
  skipped: string[];
}

function readExpected(): Expected {
  const out: Expected = { findings: [], unparsable: [], skipped: [] };
  for (const line of readFileSync(join(CORPUS, 'expected-findings.txt'), 'utf8').split('\n')) {
    if (!line.trim() || line.startsWith('#')) continue;
    if (line.startsWith('skipped ')) out.skipped.push(line.slice('skipped '.length));
    else if (line.endsWith(' unparsable')) out.unparsable.push(line.slice(0, -' unparsable'.length));
    else out.findings.push(line);
  }
  return out;
}

describe('services check on the corpus', () => {
  it('finds every expected finding and nothing else: precision and recall 100% per kind', () => {
    const expected = readExpected();
    const report = checkTree({ dir: CORPUS });
    const actual = report.findings.filter((f) => f.kind !== 'unparsable').map((f) => `${f.file}:${f.line} ${f.kind} ${f.models.join(',')}`);
    const rows: string[] = [];
    let allPerfect = true;
    for (const kind of FINDING_KINDS.filter((k) => k !== 'unparsable')) {
      const exp = expected.findings.filter((l) => l.split(' ')[1] === kind);
      const act = actual.filter((l) => l.split(' ')[1] === kind);
      const remaining = [...exp];
      let tp = 0;
      for (const a of act) {
        const i = remaining.indexOf(a);
        if (i >= 0) {
          tp += 1;
          remaining.splice(i, 1);
        }
      }
      const precision = act.length === 0 ? 1 : tp / act.length;
      const recall = exp.length === 0 ? 1 : tp / exp.length;
      if (precision < 1 || recall < 1) allPerfect = false;
      rows.push(`${kind.padEnd(28)} expected ${String(exp.length).padStart(3)}  found ${String(act.length).padStart(3)}  precision ${(precision * 100).toFixed(1)}%  recall ${(recall * 100).toFixed(1)}%`);
      expect(exp.length, `the corpus has no case of ${kind}`).toBeGreaterThan(0);
    }
    console.log(`services check corpus:\n${rows.join('\n')}`);
    expect(allPerfect).toBe(true);
    expect([...actual].sort()).toEqual([...expected.findings].sort());
  });

  it('reports the unparsable file and skips backup and generated files, naming each; every source file is accounted for', () => {
    const expected = readExpected();
    const report = checkTree({ dir: CORPUS });
    expect(report.files.filter((f) => f.state === 'unparsable').map((f) => f.file)).toEqual(expected.unparsable);
    expect(report.files.filter((f) => f.state === 'skipped').map((f) => `${f.file} ${f.reason}`).sort()).toEqual([...expected.skipped].sort());
    const unparsable = report.findings.filter((f) => f.kind === 'unparsable');
    expect(unparsable.map((f) => f.file)).toEqual(expected.unparsable);
    expect(unparsable[0]!.message).toMatch(/does not parse/);
    // with --include-generated the skipped ones are analysed too
    const all = checkTree({ dir: CORPUS, includeGenerated: true });
    expect(all.files.filter((f) => f.state === 'skipped')).toEqual([]);
    expect(all.findings.some((f) => f.file === 'services/shared/payments.cjs.bak' && f.kind === 'foreign-model')).toBe(true);
  });
});

describe('analyzeSource', () => {
  const own = loadOwnership();
  const run = (text: string, service: string | undefined = 'machines', file = 'x.js') => analyzeSource({ file, text, service, ownership: own });

  it('points at the model name, 1-based line and column', () => {
    const r = run('const prisma = require("./db");\n  prisma.auditLog.create({ data: {} });\n');
    expect(r.findings).toHaveLength(1);
    expect(r.findings[0]).toMatchObject({ kind: 'foreign-model', line: 2, column: 10, endLine: 2, endColumn: 18, models: ['AuditLog'], autofix: true });
  });

  it("a service client used on another service's model is reported whatever the file's path", () => {
    const r = run("import { getTasksClient } from '@vendhub/database';\nawait getTasksClient().machine.findMany();", undefined);
    expect(r.findings.map((f) => f.kind)).toEqual(['foreign-model']);
    expect(r.findings[0]!.message).toContain('machines service');
  });

  it('a shadowing local that is not a client is not reported; a delegate alias is', () => {
    const r = run('function f(prisma) { const task = { count: () => 1 }; return task.count(); }\nconst users = prisma.user;\nusers.findMany();');
    expect(r.findings.map((f) => `${f.line} ${f.kind}`)).toEqual(['3 foreign-model']);
    expect(r.findings[0]!.autofix).toBe(false);
  });

  it('an include held in a variable, spread or nested three deep, is followed', () => {
    const r = run('const deep = { actions: { include: { user: true } } };\nconst inc = { tasks: { include: { ...deep } } };\nprisma.machine.findMany({ include: inc });');
    expect(r.findings.map((f) => `${f.line}:${f.column} ${f.kind} ${f.models.join(',')}`)).toEqual([
      '1:38 cross-service-include TaskAction,User',
      '2:15 cross-service-include Machine,Task',
    ]);
  });

  it('a syntax error is one unparsable finding, never a silent pass', () => {
    const r = run('prisma.task.findMany({ where: { id: 1 }');
    expect(r.parsed).toBe(false);
    expect(r.findings.map((f) => f.kind)).toEqual(['unparsable']);
  });

  it('JSX and TypeScript-only syntax parse', () => {
    expect(run('const el = <div>{prisma.task.count()}</div>;', 'tasks', 'x.jsx').findings).toEqual([]);
    expect(run('const n = (prisma as any).task satisfies object; enum E { A }', 'tasks', 'x.ts').parsed).toBe(true);
  });
});

describe('services check and fix as a subprocess', () => {
  it('exit 0 clean, 20 findings, 21 unparsable, 2 on a bad --format or --map', async () => {
    const dir = tmp();
    mkdirSync(join(dir, 'services', 'auth'), { recursive: true });
    writeFileSync(join(dir, 'services', 'auth', 'ok.js'), "const { getAuthClient } = require('@vendhub/database');\ngetAuthClient().user.findMany();\n");
    expect((await runCli(['services', 'check', dir])).code).toBe(0);
    writeFileSync(join(dir, 'services', 'auth', 'bad.js'), 'prisma.task.count();\n');
    const findings = await runCli(['services', 'check', dir]);
    expect(findings.code).toBe(20);
    expect(findings.stdout).toContain('bad.js:1:8  error  foreign-model  [Task]');
    writeFileSync(join(dir, 'services', 'auth', 'broken.js'), 'function (\n');
    expect((await runCli(['services', 'check', dir])).code).toBe(21);
    const fmt = await runCli(['services', 'check', dir, '--format', 'xml']);
    expect(fmt.code).toBe(2);
    expect(fmt.stderr).toContain('--format xml');
    const map = await runCli(['services', 'check', dir, '--map', 'apps/**=billing']);
    expect(map.code).toBe(2);
    expect(map.stderr).toContain("'billing' is no service");
    expect((await runCli(['services', 'check', join(dir, 'nope')])).code).toBe(2);
  });

  it('--format sarif is SARIF 2.1.0 with one result per finding and its region', async () => {
    const json = JSON.parse((await runCli(['services', 'check', CORPUS, '--format', 'json'])).stdout);
    const r = await runCli(['services', 'check', CORPUS, '--format', 'sarif']);
    expect(r.code).toBe(21);
    const sarif = JSON.parse(r.stdout);
    expect(sarif.version).toBe('2.1.0');
    const results = sarif.runs[0].results;
    expect(results).toHaveLength(json.findings.length);
    const ruleIds = new Set(sarif.runs[0].tool.driver.rules.map((x: { id: string }) => x.id));
    for (const res of results) {
      expect(ruleIds.has(res.ruleId)).toBe(true);
      const loc = res.locations[0].physicalLocation;
      expect(loc.artifactLocation.uri).toMatch(/^services\//);
      expect(loc.region.startLine).toBeGreaterThan(0);
      expect(loc.region.startColumn).toBeGreaterThan(0);
    }
  });

  it('a path mapping puts files of other layouts into services', async () => {
    const dir = tmp();
    mkdirSync(join(dir, 'apps', 'telemetry'), { recursive: true });
    writeFileSync(join(dir, 'apps', 'telemetry', 'a.js'), 'prisma.machine.findMany();\nprisma.user.findMany();\n');
    const none = JSON.parse((await runCli(['services', 'check', dir, '--json'])).stdout);
    expect(none.findings).toEqual([]);
    expect(none.files[0].service).toBeUndefined();
    const mapped = JSON.parse((await runCli(['services', 'check', dir, '--json', '--map', 'apps/telemetry/**=machines'])).stdout);
    expect(mapped.findings.map((f: { line: number; kind: string }) => `${f.line} ${f.kind}`)).toEqual(['2 foreign-model']);
  });

  it('fix prints a diff, --write applies it, a second run changes nothing, and check no longer reports those calls', async () => {
    const dir = tmp();
    cpSync(CORPUS, dir, { recursive: true });
    rmSync(join(dir, 'services', 'machines', 'broken.js'));
    const before = readFileSync(join(dir, 'services', 'machines', 'routes', 'machines.js'), 'utf8');
    const diff = await runCli(['services', 'fix', dir]);
    expect(diff.code).toBe(0);
    expect(diff.stdout).toContain('+const { getTasksClient, getAuthClient } = require(\'@vendhub/database\');');
    expect(diff.stdout).toContain('-    return prisma.task.count(');
    expect(diff.stdout).toContain('+    return getTasksClient().task.count(');
    expect(readFileSync(join(dir, 'services', 'machines', 'routes', 'machines.js'), 'utf8')).toBe(before);
    const written = await runCli(['services', 'fix', dir, '--write']);
    expect(written.code).toBe(0);
    expect(written.stderr).toMatch(/^\d+ fixes in \d+ files written/);
    const after = readFileSync(join(dir, 'services', 'tasks', 'tasks.service.mjs'), 'utf8');
    expect(after).toContain("import { getTasksClient, getAuthClient } from '@vendhub/database';");
    expect(after).toContain('await getAuthClient().user.findUnique(');
    const again = await runCli(['services', 'fix', dir]);
    expect(again.stdout).toBe('');
    expect(again.stderr).toMatch(/^0 fixes in 0 files/);
    const report = checkTree({ dir });
    expect(report.files.filter((f) => f.state === 'unparsable')).toEqual([]);
    expect(report.findings.filter((f) => f.autofix)).toEqual([]);
    // the transaction's foreign call is left for a person: moving it out changes what commits together
    expect(report.findings.filter((f) => f.kind === 'foreign-model').map((f) => f.file)).toEqual(['services/machines/telemetry-service.ts']);
  });
});
