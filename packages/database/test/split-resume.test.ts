import { spawn } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BIN, runCli } from './helpers/cli.ts';
import { buildGolden, sql, withSplitEnv, type Golden } from './helpers/split-fixture.ts';
import { verifySplit } from './helpers/split-ops.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Starts `split run`, waits until `when` says so (polling the targets), then kills it with `signal`. */
async function runAndKill(env: Record<string, string>, args: string[], when: () => Promise<boolean>, signal: NodeJS.Signals) {
  const child = spawn(process.execPath, [BIN, 'split', 'run', '--no-verify', '--no-progress', ...args], {
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (d) => (stderr += d));
  child.stdout.resume();
  const exited = new Promise<number | null>((r) => child.on('close', (code) => r(code)));
  let killed = false;
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline && child.exitCode === null) {
    if (await when().catch(() => false)) {
      child.kill(signal);
      killed = true;
      break;
    }
    await sleep(15);
  }
  return { code: await exited, killed, stderr };
}

async function doneChunks(url: string): Promise<number> {
  const r = await sql<{ n: string }>(url, `SELECT count(*)::text AS n FROM _vendhub_split.chunks WHERE status = 'done'`);
  return Number(r[0]?.n ?? 0);
}

describe('kill -9 at any moment, then --resume', () => {
  let golden: Golden;
  beforeAll(async () => {
    golden = await buildGolden('resume', 2, 5, 0);
  });
  afterAll(async () => {
    await golden?.drop();
  });

  it.each([
    ['before the first write', 'early'],
    ['after the first chunk', 1],
    ['mid-copy', 25],
    ['late in the copy', 60],
  ] as const)('killed %s: resumes to a verified, identical result', async (_label, point) => {
    await withSplitEnv(golden, 'mixed', 'rs_kill', async (env, topo) => {
      const watch = topo.env.MACHINES_DATABASE_URL as string;
      const started = Date.now();
      const when = point === 'early' ? async () => Date.now() - started > 150 : async () => (await doneChunks(watch)) >= point;
      const first = await runAndKill(env, ['--chunk-rows', '300', '--parallel', '2'], when, 'SIGKILL');
      expect(first.killed).toBe(true);
      expect(first.code).toBeNull();
      const again = await runCli(['split', 'run', '--resume', '--chunk-rows', '300', '--json', '--no-progress'], env);
      expect(again.code, again.stderr).toBe(0);
      const out = JSON.parse(again.stdout);
      expect(out.report.verify.ok).toBe(true);
      if (point !== 'early') expect(out.report.run.tables.some((t: { resumedChunks: number }) => t.resumedChunks > 0)).toBe(true);
      // The same as an uninterrupted run: every row once, no row missing, contents equal.
      const v = await verifySplit(env, {});
      expect(v.ok).toBe(true);
      const dup = await sql<{ n: string }>(watch, 'SELECT count(*) - count(DISTINCT id) AS n FROM machines_service.machine_telemetry');
      expect(Number(dup[0]?.n)).toBe(0);
    });
  });

  it('killed twice in a row, then resumed', async () => {
    await withSplitEnv(golden, 'shared', 'rs_kill2', async (env, topo) => {
      const url = topo.env.DATABASE_URL as string;
      await runAndKill(env, ['--chunk-rows', '300'], async () => (await doneChunks(url)) >= 10, 'SIGKILL');
      const second = await runAndKill(env, ['--chunk-rows', '300', '--resume'], async () => (await doneChunks(url)) >= 40, 'SIGKILL');
      expect(second.killed).toBe(true);
      const done = await runCli(['split', 'run', '--resume', '--chunk-rows', '300', '--no-progress'], env);
      expect(done.code, done.stderr).toBe(0);
      expect((await verifySplit(env, {})).ok).toBe(true);
    });
  });

  it('Ctrl-C stops at a chunk boundary with exit 130, and --resume finishes', async () => {
    await withSplitEnv(golden, 'shared', 'rs_int', async (env, topo) => {
      const url = topo.env.DATABASE_URL as string;
      const r = await runAndKill(env, ['--chunk-rows', '300'], async () => (await doneChunks(url)) >= 5, 'SIGINT');
      expect(r.code).toBe(130);
      expect(r.stderr).toMatch(/--resume/);
      const running = await sql<{ status: string }>(url, 'SELECT status FROM _vendhub_split.runs');
      expect(running.map((x) => x.status)).toEqual(['running']);
      const done = await runCli(['split', 'run', '--resume', '--chunk-rows', '300', '--no-progress'], env);
      expect(done.code, done.stderr).toBe(0);
      expect(done.stdout).toContain('equal');
    });
  });

  it('a finished run cannot be resumed, and a second run refuses non-empty targets', async () => {
    await withSplitEnv(golden, 'shared', 'rs_twice', async (env) => {
      expect((await runCli(['split', 'run', '--no-progress'], env)).code).toBe(0);
      const again = await runCli(['split', 'run', '--no-progress'], env);
      expect(again.code).toBe(8);
      expect(again.stderr).toMatch(/\[not-empty\] auth_service\.users/);
      const resume = await runCli(['split', 'run', '--resume', '--no-progress'], env);
      expect(resume.code).toBe(8);
      expect(resume.stderr).toMatch(/nothing to resume/);
    });
  });
});
