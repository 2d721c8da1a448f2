import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

const REPO = fileURLToPath(new URL('../../..', import.meta.url));

function sh(cmd: string, cwd: string, timeoutMs: number): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve) => {
    const child = spawn('bash', ['-c', cmd], { cwd, env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/root' }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    const t = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('close', (code) => {
      clearTimeout(t);
      resolve({ code, out });
    });
  });
}

// Like `git clone` into root's home (mode 0700): the `postgres` user the embedded server runs as
// cannot traverse the folder holding the binaries.
const home = mkdtempSync(join(tmpdir(), 'vh-private-home-'));
afterAll(() => rmSync(home, { recursive: true, force: true }));

describe('the README demo from a clone in a 0700 directory', () => {
  it('`npm ci && npx vendhub-db demo` exits 0', async () => {
    execFileSync('chmod', ['0700', home]);
    const clone = join(home, 'vendhub');
    execFileSync('git', ['clone', '--quiet', REPO, clone]);
    const asRoot = process.getuid?.() === 0;
    if (asRoot) {
      // The point of the test: the postgres user must not be able to reach the clone.
      expect(() => execFileSync('runuser', ['-u', 'postgres', '--', 'ls', clone], { stdio: 'pipe' })).toThrow();
    }
    const install = await sh('npm ci --no-audit --no-fund --prefer-offline', clone, 300_000);
    expect(install.code, install.out.slice(-2000)).toBe(0);
    const demo = await sh('npx vendhub-db demo --scale 0.2', clone, 300_000);
    expect(demo.code, demo.out.slice(-3000)).toBe(0);
    expect(demo.out).toContain('source and targets are equal');
    expect(demo.out).not.toMatch(/\n\s+at /); // no stack trace
  }, 600_000);
});
