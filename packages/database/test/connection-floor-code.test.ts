import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

// Reading the code: src/db is the only module that opens connections or writes transaction
// control; every other module goes through withDatabase / withTransaction / openTransaction.
const PACKAGE = join(import.meta.dirname, '..');
const SRC = join(PACKAGE, 'src');

function tsFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = join(dir, e.name);
    if (e.isDirectory()) return tsFiles(p);
    return e.name.endsWith('.ts') ? [p] : [];
  });
}

/** The code without comments (block comments, whole-line and trailing `// …`), line numbers kept. */
function withoutComments(text: string): string[] {
  const noBlocks = text.replace(/\/\*[\s\S]*?\*\//g, (m) => m.replace(/[^\n]/g, ' '));
  return noBlocks.split('\n').map((l) => (/^\s*\/\//.test(l) ? '' : l.replace(/\s\/\/\s.*$/, '')));
}

/** What only src/db may do, each with the pattern that finds it in code. */
const FORBIDDEN: readonly { what: string; re: RegExp }[] = [
  { what: 'creates a pg.Pool / pg.Client', re: /new\s+(pg\.)?(Pool|Client)\s*\(/ },
  { what: "imports pg's runtime (not only its types)", re: /^import\s+(?!type\b)[^;]*from\s+'pg'/ },
  { what: 'creates a replication connection', re: /new\s+LogicalReplicationService\b|^import\s+(?!type\b)[^;]*from\s+'pg-logical-replication'/ },
  { what: "checks a client out of a pool itself (bypasses the floor's session setup)", re: /\bpool\.connect\s*\(/ },
  { what: 'writes transaction control (BEGIN/COMMIT/ROLLBACK)', re: /\b(BEGIN|COMMIT|ROLLBACK(?!\s+TO\s+SAVEPOINT)|START\s+TRANSACTION)\b/ },
  { what: 'uses connectTo (removed: withDatabase / withTransaction)', re: /\bconnectTo\s*\(/ },
  { what: "checks a client out with the floor's internal acquire (withDatabase gives it back)", re: /\bacquire\s*\(/ },
];

/** Every place outside src/db that does what only the floor may do: "file:line: what". */
function floorViolations(): string[] {
  const out: string[] = [];
  for (const file of tsFiles(SRC)) {
    const rel = relative(SRC, file);
    if (rel.startsWith('db/')) continue;
    withoutComments(readFileSync(file, 'utf8')).forEach((line, i) => {
      for (const f of FORBIDDEN) if (f.re.test(line)) out.push(`src/${rel}:${i + 1}: ${f.what}: ${line.trim()}`);
    });
  }
  return out;
}

describe('one connection floor (src/db)', () => {
  it('no module outside src/db opens connections or writes BEGIN/COMMIT/ROLLBACK', () => {
    expect(floorViolations()).toEqual([]);
  });

  it('the check sees what it forbids (comments aside)', () => {
    const probe = [
      "const p = new pg.Pool(cfg);",
      "await c.query('BEGIN ISOLATION LEVEL REPEATABLE READ');",
      "await c.query(['BEGIN', ...drops, 'COMMIT'].join(';'));",
      "const c = await target.pool.connect();",
      "const c = await connectTo(ctx.source.pool, label, secrets);",
      "import pg from 'pg';",
      "return new LogicalReplicationService(cfg, {});",
      "const c = await acquire(db.pool, db.label, secrets);",
    ];
    for (const line of probe) expect(FORBIDDEN.some((f) => f.re.test(line)), line).toBe(true);
    const allowed = [
      "import type pg from 'pg';",
      "await src.query('ROLLBACK TO SAVEPOINT probe');",
      "const u = 'postgresql://u@h/db'; // BEGIN in a comment",
    ];
    for (const line of allowed) expect(withoutComments(line).some((l) => FORBIDDEN.some((f) => f.re.test(l))), line).toBe(false);
  });

  it('no operation under src/split or src/follow reads the environment or imports the CLI (only the command edge does)', () => {
    const found = tsFiles(SRC)
      .filter((f) => /\/src\/(split|follow)\//.test(f))
      .flatMap((f) => withoutComments(readFileSync(f, 'utf8')).flatMap((l, i) => (/\bprocess\.env\b|from '(\.\.\/)+cli\//.test(l) ? [`${relative(SRC, f)}:${i + 1}: ${l.trim()}`] : [])));
    expect(found).toEqual([]);
  });

  it('only the command edge (src/cli) opens a split context, through the one edge helper; operations take the context, never env', () => {
    expect(contextViolations([SRC, join(PACKAGE, 'test'), join(PACKAGE, 'bench')])).toEqual([]);
  });

  it('the context check sees an operation that opens its own context or takes env', () => {
    const probe = (path: string, code: string) => contextViolationsIn(path, ts.createSourceFile(path, code, ts.ScriptTarget.Latest, true));
    expect(probe('src/split/x.ts', "import { openSplitContext } from './split-context.ts';\nexport async function op(ctx: SplitContext) { const c = openSplitContext(ctx.env, { parallel: 1 }); }")).toHaveLength(2);
    expect(probe('test/x.test.ts', "import { openSplitContext as o } from '../src/split/split-context.ts';")).toHaveLength(1);
    expect(probe('src/follow/x.ts', 'export async function op(env: Env, opts = {}) {}')).toHaveLength(1);
    expect(probe('src/follow/x.ts', 'export const op = async (environment: NodeJS.ProcessEnv) => {};')).toHaveLength(1);
    expect(probe('src/scaffold/x.ts', 'export async function op(ctx: SplitContext, env = process.env) {}')).toHaveLength(1);
    expect(probe('src/split/x.ts', "import { loadDatabaseConfig } from '../config/database-config.ts';")).toHaveLength(1);
    expect(probe('src/cli/commands/x.ts', "const ctx = openSplitContext(env, { parallel: 1 });")).toEqual([]);
    expect(probe('src/follow/x.ts', 'export async function op(ctx: SplitContext, opts: { slot?: string } = {}) {}\nfunction helper(env: Env) {}')).toEqual([]);
  });
});

/** Where operations live: they receive a SplitContext from the command and never read the environment. */
const OPERATIONS = /^src\/(split|follow|scaffold)\//;
/** The one edge helper (withSplitContext) and its openSplitContext live here. */
const EDGE_HELPER = 'src/split/split-context.ts';

/** Every file under `roots` breaking the context rule: "path:line: what". */
function contextViolations(roots: readonly string[]): string[] {
  return roots.flatMap((root) => tsFiles(root)).flatMap((file) => {
    const path = relative(PACKAGE, file);
    if (path.startsWith('src/generated/')) return []; // Prisma's generated clients
    return contextViolationsIn(path, ts.createSourceFile(path, readFileSync(file, 'utf8'), ts.ScriptTarget.Latest, true));
  });
}

/**
 * Reads the syntax tree: outside src/cli and the edge helper, any reference to `openSplitContext`
 * (import, call, alias); in an operation module, an exported function with an environment
 * parameter (named env/environment, typed Env or ProcessEnv, or defaulting to process.env) or an
 * import of the environment readers of src/config/database-config.
 */
function contextViolationsIn(path: string, sf: ts.SourceFile): string[] {
  const out: string[] = [];
  const at = (n: ts.Node, what: string) => out.push(`${path}:${sf.getLineAndCharacterOfPosition(n.getStart(sf)).line + 1}: ${what}`);
  const edge = path.startsWith('src/cli/') || path === EDGE_HELPER;
  const operation = OPERATIONS.test(path) && path !== EDGE_HELPER;
  const exported = (n: ts.Node) => ts.canHaveModifiers(n) && (ts.getModifiers(n) ?? []).some((m) => m.kind === ts.SyntaxKind.ExportKeyword);
  const envParameter = (p: ts.ParameterDeclaration) => {
    const name = ts.isIdentifier(p.name) ? p.name.text : '';
    const type = p.type?.getText(sf) ?? '';
    const init = p.initializer?.getText(sf) ?? '';
    return /^env(ironment)?$/i.test(name) || /\b(Env|ProcessEnv)\b/.test(type) || /\bprocess\.env\b/.test(init);
  };
  const checkParameters = (fn: ts.SignatureDeclarationBase, name: string) => {
    for (const p of fn.parameters) if (envParameter(p)) at(p, `exported operation ${name} takes the environment (${p.getText(sf)}): take the SplitContext instead`);
  };
  const visit = (n: ts.Node): void => {
    if (!edge && ts.isIdentifier(n) && n.text === 'openSplitContext') at(n, 'opens a split context: only the command edge (src/cli, withSplitContext) may');
    if (operation && ts.isFunctionDeclaration(n) && exported(n)) checkParameters(n, n.name?.text ?? 'default');
    if (operation && ts.isVariableStatement(n) && exported(n)) {
      for (const d of n.declarationList.declarations) {
        if (d.initializer && (ts.isArrowFunction(d.initializer) || ts.isFunctionExpression(d.initializer))) checkParameters(d.initializer, d.name.getText(sf));
      }
    }
    if (operation && ts.isImportDeclaration(n) && /config\/database-config(\.ts)?'$/.test(n.moduleSpecifier.getText(sf))) {
      const names = n.importClause?.namedBindings && ts.isNamedImports(n.importClause.namedBindings) ? n.importClause.namedBindings.elements.map((e) => (e.propertyName ?? e.name).text) : [];
      for (const r of names.filter((x) => x === 'Env' || /^load\w*Config$/.test(x))) at(n, `imports ${r}: an operation gets its databases from the context, not the environment`);
    }
    ts.forEachChild(n, visit);
  };
  visit(sf);
  return out;
}
