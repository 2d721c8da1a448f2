import { loadModule, parseSync } from 'libpg-query';

/** What a plan-file expression is, once parsed by PostgreSQL's own grammar. */
export type CheckedExpression =
  | { readonly ok: true; readonly columns: readonly string[] }
  | { readonly ok: false; readonly reason: string };

/**
 * Functions an expression may not call even inside a read-only transaction: they act outside the
 * transaction (signals, locks, notifications, configuration, large objects, other connections) or
 * run SQL text of their own.
 */
const FORBIDDEN_FUNCTIONS = /^(pg_(?!typeof$|size_pretty$|column_size$).*|lo_.*|dblink.*|nextval|setval|set_config|query_to_xml.*|cursor_to_xml.*|table_to_xml.*|schema_to_xml.*|database_to_xml.*|txid_.*)$/;

/** Clauses that make `SELECT (<expression>)` more than one value of the current row. */
const SELECT_EXTRAS = ['fromClause', 'whereClause', 'groupClause', 'havingClause', 'windowClause', 'sortClause', 'limitCount', 'limitOffset',
  'lockingClause', 'intoClause', 'withClause', 'distinctClause', 'valuesLists', 'larg', 'rarg'] as const;

let loading: Promise<void> | undefined;
let loaded = false;

/** Loads the parser (WebAssembly, no network); call once before `checkExpression`. */
export function loadExpressionParser(): Promise<void> {
  loading ??= loadModule().then(() => {
    loaded = true;
  });
  return loading;
}

/**
 * Parses a plan-file expression the way the split embeds it, `SELECT (<expression>)`, and accepts
 * it only when that is one statement holding exactly one value: no statement separator, no second
 * column, no FROM/WHERE/UNION/INTO tacked on after a closing parenthesis, no comment swallowing
 * the parenthesis, no write (INSERT/UPDATE/DELETE/MERGE, SELECT ... FOR UPDATE) and no function
 * that acts outside the transaction. Returns the source columns it reads (bare or `s.`-qualified
 * names, including those read inside subqueries), so coverage never counts a string literal.
 *
 * @example checkExpression(`coalesce("meta", '{}')`) // -> { ok: true, columns: ['meta'] }
 */
export function checkExpression(expression: string): CheckedExpression {
  if (!loaded) throw new Error('checkExpression: the SQL parser is not loaded; await loadExpressionParser() first');
  let tree: { stmts?: { stmt: Record<string, unknown> }[] };
  try {
    tree = parseSync(`SELECT (${expression})`);
  } catch (e) {
    return { ok: false, reason: `is not one SQL expression (${(e as Error).message})` };
  }
  const stmts = tree.stmts ?? [];
  if (stmts.length !== 1) return { ok: false, reason: `must be one expression, not ${stmts.length} statements (a ";" ends a statement)` };
  const select = (stmts[0] as { stmt: Record<string, unknown> }).stmt.SelectStmt as Record<string, unknown> | undefined;
  if (!select) return { ok: false, reason: 'must be one expression' };
  const extra = SELECT_EXTRAS.find((k) => select[k] !== undefined) ?? (select.op !== undefined && select.op !== 'SETOP_NONE' ? 'op' : undefined);
  if (extra !== undefined) return { ok: false, reason: 'must be one expression of the row, not a query (a parenthesis closes it early)' };
  const targets = select.targetList as unknown[] | undefined;
  if (targets?.length !== 1) return { ok: false, reason: `must be one expression, not ${targets?.length ?? 0} values` };
  const columns = new Set<string>();
  const problem = walk(targets[0], columns);
  if (problem) return { ok: false, reason: problem };
  return { ok: true, columns: [...columns] };
}

/** Visits every node; returns why the expression is refused, or undefined. Collects column names. */
function walk(node: unknown, columns: Set<string>): string | undefined {
  if (Array.isArray(node)) {
    for (const x of node) {
      const p = walk(x, columns);
      if (p) return p;
    }
    return undefined;
  }
  if (node === null || typeof node !== 'object') return undefined;
  for (const [key, value] of Object.entries(node as Record<string, unknown>)) {
    if (key.endsWith('Stmt') && key !== 'SelectStmt') return `may only read: it contains ${key.replace(/Stmt$/, '').toUpperCase()}`;
    if (key === 'lockingClause' || key === 'intoClause') return 'may only read: SELECT ... FOR UPDATE/SHARE and SELECT INTO are writes';
    if (key === 'FuncCall') {
      const name = funcName(value);
      if (name && FORBIDDEN_FUNCTIONS.test(name)) return `may not call ${name}() (it acts outside a read-only transaction or runs SQL of its own)`;
    }
    if (key === 'ColumnRef') addColumn(value, columns);
    const p = walk(value, columns);
    if (p) return p;
  }
  return undefined;
}

function funcName(call: unknown): string | undefined {
  const parts = ((call as { funcname?: { String?: { sval?: string } }[] }).funcname ?? []).map((x) => x.String?.sval ?? '');
  return parts[parts.length - 1]?.toLowerCase();
}

/** `name`, `"Name"` and `s.name` read the source row's column; `l.name` reads another table's. */
function addColumn(ref: unknown, columns: Set<string>): void {
  const fields = ((ref as { fields?: { String?: { sval?: string } }[] }).fields ?? []).map((f) => f.String?.sval);
  if (fields.length === 1 && fields[0] !== undefined) columns.add(fields[0]);
  else if (fields.length === 2 && fields[0] === 's' && fields[1] !== undefined) columns.add(fields[1]);
}
