import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';

// Reading the code: src/db is the only module that opens connections or writes transaction
// control; every other module goes through withDatabase / withTransaction / openTransaction.
const SRC = join(import.meta.dirname, '..', 'src');

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
});
