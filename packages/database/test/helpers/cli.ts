import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const BIN = join(fileURLToPath(new URL('../..', import.meta.url)), 'bin', 'vendhub-db.js');

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Runs `vendhub-db` as a subprocess with exactly the given environment (plus PATH/HOME). */
export function runCli(args: string[], env: Record<string, string> = {}, timeoutMs = 120_000): Promise<CliResult> {
  return runNode(BIN, args, { env, timeoutMs });
}

/**
 * Runs a Node script as a subprocess with exactly the given environment (plus PATH/HOME), killing
 * it with SIGKILL after `timeoutMs`; resolves with its exit code, signal and both outputs.
 */
export function runNode(file: string, args: string[], opts: { env?: Record<string, string>; cwd?: string; timeoutMs?: number } = {}): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [file, ...args], {
      cwd: opts.cwd,
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', ...opts.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const t = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 120_000);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(t);
      resolve({ code, signal, stdout, stderr });
    });
  });
}

/** A long-running `vendhub-db` subprocess (a follower): its output so far, and its exit. */
export interface SpawnedCli {
  readonly child: ChildProcess;
  /** Resolves with the exit code (null when killed by a signal). */
  readonly exited: Promise<number | null>;
  output(): string;
}

/** Starts `vendhub-db` in the background with exactly the given environment (plus PATH/HOME). */
export function spawnCli(args: string[], env: Record<string, string> = {}): SpawnedCli {
  const child = spawn(process.execPath, [BIN, ...args], { env: { PATH: process.env.PATH ?? '', HOME: '/tmp', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout?.on('data', (d) => (out += d));
  child.stderr?.on('data', (d) => (out += d));
  const exited = new Promise<number | null>((r) => child.on('close', (code) => r(code)));
  return { child, exited, output: () => out };
}

/** Polls `ok` until it holds; throws `why()` after `ms`, or at once when `gaveUp()` (say, the process exited). */
export async function until(ok: () => Promise<boolean>, ms: number, why: () => string, gaveUp: () => boolean = () => false): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await ok())) {
    if (Date.now() > deadline || gaveUp()) throw new Error(why());
    await new Promise((r) => setTimeout(r, 100));
  }
}
