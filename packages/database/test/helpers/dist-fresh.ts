import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'vitest';

const PKG = fileURLToPath(new URL('../..', import.meta.url));

/** The newest modification time of any file under `dir`. */
export function newestMtime(dir: string): number {
  let newest = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    newest = Math.max(newest, e.isDirectory() ? newestMtime(p) : statSync(p).mtimeMs);
  }
  return newest;
}

/** Fails the test when dist/ (what plain `node` loads) is older than src/. */
export function expectDistFresh(): void {
  expect(statSync(join(PKG, 'dist', 'index.js')).mtimeMs, 'dist/ older than src/: run `npm run build`').toBeGreaterThanOrEqual(newestMtime(join(PKG, 'src')) - 1);
}
