import type * as TS from 'typescript';
import { ts } from './typescript.ts';

/**
 * A Prisma client as the analyzer sees it. `service` is set for a per-service client
 * (`getTasksClient()`), undefined for the monolith's shared client (`new PrismaClient()`, a shared
 * `prisma` import, `this.prisma`), whose service is then the file's.
 */
export interface ClientRef {
  readonly service: string | undefined;
  /** Set on the `tx` of a `$transaction(async (tx) => …)` callback: the transaction it belongs to. */
  readonly transaction?: TransactionScope;
  /** True when the receiver text can be swapped for another service's client by the codemod. */
  readonly replaceable: boolean;
  /**
   * True when it is a Prisma client beyond doubt (a factory, `new PrismaClient`, a name with
   * "prisma", a `$transaction` callback's parameter); only then is an unknown model reported, so
   * `db.pool.count()` on some other `db` is not.
   */
  readonly certain?: boolean;
}

/** The shared (monolith) client, known by a name. */
export const sharedClient = (name: string): ClientRef => ({ service: undefined, replaceable: true, certain: /prisma/i.test(name) });

/** Collects the owners of every model a transaction touches. */
export interface TransactionScope {
  readonly node: TS.Node;
  readonly models: Set<string>;
}

export type Binding =
  | { readonly kind: 'client'; readonly client: ClientRef }
  | { readonly kind: 'delegate'; readonly client: ClientRef; readonly accessor: string }
  | { readonly kind: 'object'; readonly node: TS.ObjectLiteralExpression }
  | { readonly kind: 'other' };

/** Lexical scopes, innermost last; a name declared in a scope shadows outer ones. */
export class Scope {
  private readonly names = new Map<string, Binding>();
  constructor(readonly parent: Scope | undefined) {}

  lookup(name: string): Binding | undefined {
    return this.names.get(name) ?? this.parent?.lookup(name);
  }

  declare(name: string, binding: Binding): void {
    this.names.set(name, binding);
  }
}

/** How a file names its clients: identifiers and properties (`this.prisma`, `fastify.db`). */
export interface ClientNaming {
  /** Identifier or property names that hold a shared (monolith) client. Default: prisma, db, tx. */
  readonly names: ReadonlySet<string>;
  /** Service names, for `getTasksClient()` / `createTasksClient()` / `createClient('tasks')`. */
  readonly services: readonly string[];
}

const FACTORY = /^(?:get|create)([A-Z]\w*?)Client$/;
const SHARED_GETTER = /^(?:get|use)?(?:prisma|db)(?:client)?$/i;
const CLIENT_MODULE = /prisma|(?:^|[/.])db(?:[/.]|$)|database/i;

function unwrap(e: TS.Expression): TS.Expression {
  let x = e;
  while (ts.isParenthesizedExpression(x) || ts.isAwaitExpression(x) || ts.isNonNullExpression(x) || ts.isAsExpression(x) || ts.isSatisfiesExpression(x) || ts.isTypeAssertionExpression(x)) x = x.expression;
  return x;
}

/** The name a call is made through: `getTasksClient` for `getTasksClient()` and `db.getTasksClient()`. */
function calleeName(call: TS.CallExpression | TS.NewExpression): string | undefined {
  const c = unwrap(call.expression);
  if (ts.isIdentifier(c)) return c.text;
  if (ts.isPropertyAccessExpression(c)) return c.name.text;
  return undefined;
}

/**
 * The client an expression evaluates to, or undefined when it is not recognisably a Prisma client.
 *
 * @example clientOf(`getAuthClient()`) // { service: 'auth', replaceable: true }
 */
export function clientOf(expr: TS.Expression, scope: Scope, naming: ClientNaming): ClientRef | undefined {
  const e = unwrap(expr);
  if (ts.isCallExpression(e)) {
    const name = calleeName(e);
    if (!name) return undefined;
    const service = serviceOfFactory(name, e, naming);
    if (service) return { service, replaceable: true, certain: true };
    if (SHARED_GETTER.test(name)) return sharedClient(name);
    return undefined;
  }
  if (ts.isNewExpression(e)) return calleeName(e) === 'PrismaClient' ? { service: undefined, replaceable: true, certain: true } : undefined;
  if (ts.isIdentifier(e)) {
    const b = scope.lookup(e.text);
    if (b?.kind === 'client') return b.client;
    if (b && b.kind !== 'other') return undefined;
    return naming.names.has(e.text) ? sharedClient(e.text) : undefined;
  }
  if (ts.isPropertyAccessExpression(e)) return naming.names.has(e.name.text) ? sharedClient(e.name.text) : undefined;
  return undefined;
}

function serviceOfFactory(name: string, call: TS.CallExpression, naming: ClientNaming): string | undefined {
  if (name === 'createClient' || name === 'getClient') {
    const a = call.arguments[0];
    return a && ts.isStringLiteralLike(a) && naming.services.includes(a.text) ? a.text : undefined;
  }
  const m = FACTORY.exec(name);
  if (!m) return undefined;
  const lower = (m[1] as string).toLowerCase();
  return naming.services.find((s) => s.toLowerCase() === lower);
}

/**
 * Declares the bindings of a block's own statements before its code is visited, so a function
 * declared above `const prisma = …` still sees the client.
 */
export function declareStatements(statements: readonly TS.Statement[], scope: Scope, naming: ClientNaming): void {
  for (const st of statements) {
    if (ts.isVariableStatement(st)) {
      for (const d of st.declarationList.declarations) declareVariable(d, scope, naming);
    } else if (ts.isImportDeclaration(st)) {
      declareImport(st, scope);
    } else if ((ts.isFunctionDeclaration(st) || ts.isClassDeclaration(st)) && st.name) {
      scope.declare(st.name.text, { kind: 'other' });
    }
  }
}

/** Binds one `const x = …` (or destructuring) to what its initializer is. */
export function declareVariable(d: TS.VariableDeclaration, scope: Scope, naming: ClientNaming): void {
  const init = d.initializer ? unwrap(d.initializer) : undefined;
  if (ts.isIdentifier(d.name)) {
    scope.declare(d.name.text, bindingOf(d.name.text, init, scope, naming));
    return;
  }
  if (!ts.isObjectBindingPattern(d.name)) return;
  const source = init ? clientOf(init, scope, naming) : undefined;
  const fromModule = init && isRequireOf(init);
  for (const el of d.name.elements) {
    if (!ts.isIdentifier(el.name)) continue;
    const prop = el.propertyName && ts.isIdentifier(el.propertyName) ? el.propertyName.text : el.name.text;
    if (source && !prop.startsWith('$')) scope.declare(el.name.text, { kind: 'delegate', client: source, accessor: prop });
    else if (naming.names.has(prop) || (fromModule && CLIENT_MODULE.test(fromModule) && /^[a-z]/.test(prop) && !/^(get|create)/.test(prop) && /prisma|db/i.test(prop)))
      scope.declare(el.name.text, { kind: 'client', client: sharedClient(prop) });
    else scope.declare(el.name.text, { kind: 'other' });
  }
}

function bindingOf(name: string, init: TS.Expression | undefined, scope: Scope, naming: ClientNaming): Binding {
  if (!init) return naming.names.has(name) ? { kind: 'client', client: sharedClient(name) } : { kind: 'other' };
  if (ts.isObjectLiteralExpression(init)) return { kind: 'object', node: init };
  const client = clientOf(init, scope, naming);
  if (client) return { kind: 'client', client };
  if (ts.isPropertyAccessExpression(init) && !init.name.text.startsWith('$')) {
    const owner = clientOf(init.expression, scope, naming);
    if (owner) return { kind: 'delegate', client: owner, accessor: init.name.text };
  }
  const spec = isRequireOf(init);
  if (spec !== undefined && CLIENT_MODULE.test(spec) && (naming.names.has(name) || /prisma/i.test(name))) {
    return { kind: 'client', client: { ...sharedClient(name), certain: /prisma/i.test(name) || /prisma/i.test(spec) } };
  }
  if (naming.names.has(name)) return { kind: 'client', client: sharedClient(name) };
  return { kind: 'other' };
}

/** `require('x')` or `require('x').prisma` → 'x'. */
function isRequireOf(e: TS.Expression): string | undefined {
  let x = unwrap(e);
  if (ts.isPropertyAccessExpression(x)) x = unwrap(x.expression);
  if (ts.isCallExpression(x) && ts.isIdentifier(x.expression) && x.expression.text === 'require') {
    const a = x.arguments[0];
    return a && ts.isStringLiteralLike(a) ? a.text : undefined;
  }
  return undefined;
}

function declareImport(st: TS.ImportDeclaration, scope: Scope): void {
  const clause = st.importClause;
  if (!clause || !ts.isStringLiteral(st.moduleSpecifier)) return;
  const spec = st.moduleSpecifier.text;
  const fromClientModule = CLIENT_MODULE.test(spec);
  const bind = (local: string) => {
    const looksLikeClient = fromClientModule && /^[a-z]/.test(local) && !/^(get|create)/.test(local) && /prisma|db|client/i.test(local);
    scope.declare(local, looksLikeClient ? { kind: 'client', client: { ...sharedClient(local), certain: /prisma/i.test(local) || /prisma/i.test(spec) } } : { kind: 'other' });
  };
  if (clause.name) bind(clause.name.text);
  const nb = clause.namedBindings;
  if (nb && ts.isNamedImports(nb)) for (const el of nb.elements) bind(el.name.text);
}
