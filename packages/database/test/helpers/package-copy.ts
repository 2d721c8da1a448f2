import { cpSync, mkdtempSync, rmSync, symlinkSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runNode, type CliResult } from './cli.ts';

const PACKAGE = fileURLToPath(new URL('../..', import.meta.url));
const REPO_NODE_MODULES = join(PACKAGE, '..', '..', 'node_modules');

/**
 * A copy of packages/database in a temporary folder, so a test can let the CLI write schema files,
 * migrations, soft references and generated clients without touching the repository's own.
 * node_modules are linked, not copied.
 */
export interface PackageCopy {
  readonly root: string;
  run(args: string[], env?: Record<string, string>, timeoutMs?: number): Promise<CliResult>;
  /** `tsc --noEmit` over the copy (what `npm run typecheck` does). */
  typecheck(): Promise<CliResult>;
  remove(): void;
}

export function copyPackage(): PackageCopy {
  const top = mkdtempSync(join(tmpdir(), 'vh-pkg-'));
  const root = join(top, 'packages', 'database');
  // Timestamps kept: bin/vendhub-db.js runs dist/ only when it is as new as src/; fresh copy times
  // would let a stale dist/ (copied after src/) win over edited sources.
  cpSync(PACKAGE, root, { recursive: true, preserveTimestamps: true, filter: (src) => !/(^|[/\\])node_modules([/\\]|$)/.test(src.slice(PACKAGE.length)) });
  symlinkSync(REPO_NODE_MODULES, join(top, 'node_modules'), 'dir');
  if (existsSync(join(PACKAGE, 'node_modules'))) symlinkSync(join(PACKAGE, 'node_modules'), join(root, 'node_modules'), 'dir');
  const exec = (file: string, args: string[], env: Record<string, string>, timeoutMs: number) => runNode(file, args, { cwd: root, env, timeoutMs });
  return {
    root,
    run: (args, env = {}, timeoutMs = 600_000) => exec(join(root, 'bin', 'vendhub-db.js'), args, env, timeoutMs),
    typecheck: () => exec(join(REPO_NODE_MODULES, 'typescript', 'bin', 'tsc'), ['-p', join(root, 'tsconfig.json'), '--noEmit'], {}, 300_000),
    remove: () => rmSync(top, { recursive: true, force: true }),
  };
}
