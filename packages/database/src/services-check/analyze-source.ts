import type * as TS from 'typescript';
import { ts } from './typescript.ts';
import { ArgsWalker, type ArgIssue } from './args-walker.ts';
import { clientOf, declareStatements, declareVariable, Scope, sharedClient, type ClientNaming, type ClientRef, type TransactionScope } from './client-scope.ts';
import { describeIssue, factoryName } from './describe-finding.ts';
import type { Finding, FindingKind, TextEdit } from './finding.ts';
import type { Ownership } from './ownership.ts';
import { isRawMethod, rawSqlText, tablesInSql } from './raw-sql.ts';

export const MODEL_METHODS: ReadonlySet<string> = new Set([
  'findUnique', 'findUniqueOrThrow', 'findFirst', 'findFirstOrThrow', 'findMany',
  'create', 'createMany', 'createManyAndReturn', 'update', 'updateMany', 'updateManyAndReturn',
  'upsert', 'delete', 'deleteMany', 'count', 'aggregate', 'groupBy',
]);

/** A receiver that is not provably a client but is named like one (`this.repo.db`, `ctx.client`). */
const CLIENT_LIKE = /prisma|db$|client$|^tx$|^trx$/i;

export interface AnalyzeInput {
  /** Path as reported (relative to the checked folder). */
  readonly file: string;
  readonly text: string;
  /** The service the file belongs to by the path mapping, if any. */
  readonly service: string | undefined;
  readonly ownership: Ownership;
  /** Names that hold the shared client (`prisma`, `db`, `tx`). */
  readonly clientNames?: readonly string[];
}

/** A codemod step for one finding: replace the receiver, import the owning service's factory. */
export interface FindingFix {
  readonly finding: Finding;
  readonly edits: readonly TextEdit[];
  readonly importName: string;
}

export interface SourceAnalysis {
  readonly findings: readonly Finding[];
  readonly fixes: readonly FindingFix[];
  /** False when the file does not parse; `findings` then holds one `unparsable`. */
  readonly parsed: boolean;
  /** Module system, for the import the codemod adds. */
  readonly module: 'esm' | 'cjs';
  readonly sourceFile: TS.SourceFile;
}

export const DEFAULT_CLIENT_NAMES: readonly string[] = Object.freeze(['prisma', 'db', 'tx']);

function scriptKindOf(file: string): TS.ScriptKind {
  if (/\.tsx$/.test(file)) return ts.ScriptKind.TSX;
  if (/\.[cm]?ts$/.test(file)) return ts.ScriptKind.TS;
  return ts.ScriptKind.JSX; // .js/.cjs/.mjs/.jsx: JavaScript with JSX allowed, as Node code may hold either
}

/**
 * Analyses one JavaScript or TypeScript file: every Prisma call that breaks or loses integrity once
 * the monolith is split into the services of `ownership`.
 *
 * @example analyzeSource({ file: 'services/machines/routes.js', text, service: 'machines', ownership: loadOwnership() })
 */
export function analyzeSource(input: AnalyzeInput): SourceAnalysis {
  // No setParentNodes: that is one more walk over every node (about a tenth of the parse); `visit`
  // sets each child's parent as it descends, before anything reads it.
  const sf = ts.createSourceFile(input.file, input.text, ts.ScriptTarget.Latest, false, scriptKindOf(input.file));
  const module = moduleKindOf(sf, input.file);
  // parseDiagnostics is the parser's own list (typescript-eslint reads it the same way); a file with
  // any of them is reported, not half-analysed.
  const diags = (sf as unknown as { parseDiagnostics?: readonly TS.Diagnostic[] }).parseDiagnostics ?? [];
  if (diags.length > 0) {
    const d = diags[0]!;
    const pos = sf.getLineAndCharacterOfPosition(d.start ?? 0);
    const message = ts.flattenDiagnosticMessageText(d.messageText, ' ');
    const finding: Finding = {
      file: input.file, line: pos.line + 1, column: pos.character + 1, endLine: pos.line + 1, endColumn: pos.character + 2,
      kind: 'unparsable', models: [], service: input.service,
      message: `does not parse: ${message} (${diags.length} syntax error${diags.length > 1 ? 's' : ''}); not analysed`,
      fix: 'fix the syntax error (or exclude the file) so the analysis covers it', autofix: false,
    };
    return { findings: [finding], fixes: [], parsed: false, module, sourceFile: sf };
  }
  const run = new FileRun(sf, input);
  run.visit(sf, new Scope(undefined));
  const findings = [...run.findings].sort((a, b) => a.line - b.line || a.column - b.column);
  return { findings, fixes: run.fixes, parsed: true, module, sourceFile: sf };
}

function moduleKindOf(sf: TS.SourceFile, file: string): 'esm' | 'cjs' {
  if (/\.[cm]?[jt]s$/.test(file) && /\.c[jt]s$/.test(file)) return 'cjs';
  if (/\.m[jt]s$/.test(file)) return 'esm';
  const esm = sf.statements.some((s) => ts.isImportDeclaration(s) || ts.isExportDeclaration(s) || ts.isExportAssignment(s) || (ts.canHaveModifiers(s) && ts.getModifiers(s)?.some((m) => m.kind === ts.SyntaxKind.ExportKeyword)));
  return esm || /\.tsx?$/.test(file) ? 'esm' : 'cjs';
}

class FileRun {
  readonly findings: Finding[] = [];
  readonly fixes: FindingFix[] = [];
  private readonly naming: ClientNaming;
  private readonly txCallbacks = new Map<TS.Node, ClientRef>();

  constructor(
    private readonly sf: TS.SourceFile,
    private readonly input: AnalyzeInput,
  ) {
    this.naming = { names: new Set(input.clientNames ?? DEFAULT_CLIENT_NAMES), services: input.ownership.services };
  }

  visit(node: TS.Node, scope: Scope): void {
    let inner = scope;
    if (ts.isSourceFile(node) || ts.isBlock(node) || ts.isModuleBlock(node) || ts.isCaseClause(node) || ts.isDefaultClause(node)) {
      inner = new Scope(scope);
      declareStatements(ts.isCaseClause(node) || ts.isDefaultClause(node) ? node.statements : (node as TS.Block).statements, inner, this.naming);
    } else if (ts.isFunctionLike(node)) {
      inner = new Scope(scope);
      this.declareParameters(node, inner);
    } else if (ts.isVariableDeclaration(node) && !ts.isVariableStatement(node.parent.parent)) {
      declareVariable(node, scope, this.naming); // for-of / for-in heads
    }
    let after: (() => void) | undefined;
    if (ts.isCallExpression(node)) after = this.onCall(node, inner);
    else if (ts.isTaggedTemplateExpression(node)) this.onTaggedTemplate(node, inner);
    ts.forEachChild(node, (child) => {
      (child as { parent: TS.Node }).parent = node;
      this.visit(child, inner);
    });
    after?.();
  }

  private declareParameters(fn: TS.SignatureDeclaration, scope: Scope): void {
    const tx = this.txCallbacks.get(fn);
    fn.parameters.forEach((p, i) => {
      if (!ts.isIdentifier(p.name)) return;
      if (i === 0 && tx) scope.declare(p.name.text, { kind: 'client', client: tx });
      else if (this.naming.names.has(p.name.text)) scope.declare(p.name.text, { kind: 'client', client: sharedClient(p.name.text) });
      else scope.declare(p.name.text, { kind: 'other' });
    });
  }

  private onCall(call: TS.CallExpression, scope: Scope): (() => void) | undefined {
    const callee = call.expression;
    if (!ts.isPropertyAccessExpression(callee)) return undefined;
    const method = callee.name.text;
    if (method === '$transaction') return this.onTransaction(call, callee.expression, scope);
    if (isRawMethod(method)) {
      const client = this.clientOrNamed(callee.expression, scope);
      if (client) this.onRawSql(call, client, rawSqlText(call.arguments[0]));
      return undefined;
    }
    if (!MODEL_METHODS.has(method)) return undefined;
    const target = this.delegateOf(callee.expression, scope);
    if (target) this.onModelCall(call, method, target, scope);
    return undefined;
  }

  /** `<client>.<accessor>` or an identifier bound to such a delegate. */
  private delegateOf(recv: TS.Expression, scope: Scope): { client: ClientRef; accessor: string; accessorNode: TS.Node; clientExpr?: TS.Expression; strong: boolean } | undefined {
    if (ts.isPropertyAccessExpression(recv) && !recv.name.text.startsWith('$')) {
      const strong = clientOf(recv.expression, scope, this.naming);
      if (strong) return { client: strong, accessor: recv.name.text, accessorNode: recv.name, clientExpr: recv.expression, strong: true };
      const weak = this.clientOrNamed(recv.expression, scope);
      if (weak && this.input.ownership.modelByAccessor.has(recv.name.text)) return { client: weak, accessor: recv.name.text, accessorNode: recv.name, clientExpr: recv.expression, strong: false };
      return undefined;
    }
    if (ts.isIdentifier(recv)) {
      const b = scope.lookup(recv.text);
      if (b?.kind === 'delegate') return { client: { ...b.client, replaceable: false }, accessor: b.accessor, accessorNode: recv, strong: true };
    }
    return undefined;
  }

  private clientOrNamed(e: TS.Expression, scope: Scope): ClientRef | undefined {
    const c = clientOf(e, scope, this.naming);
    if (c) return c;
    const name = ts.isIdentifier(e) ? e.text : ts.isPropertyAccessExpression(e) ? e.name.text : undefined;
    return name && CLIENT_LIKE.test(name) ? { service: undefined, replaceable: false } : undefined;
  }

  private onModelCall(call: TS.CallExpression, method: string, t: NonNullable<ReturnType<FileRun['delegateOf']>>, scope: Scope): void {
    const own = this.input.ownership;
    const model = own.modelByAccessor.get(t.accessor);
    const service = t.client.service ?? this.input.service;
    if (!model) {
      if (t.strong && t.client.certain) this.add(t.accessorNode, 'unknown-model', [t.accessor], service, { accessor: t.accessor });
      return;
    }
    const owner = own.ownerOf.get(model);
    if (t.client.transaction && owner) t.client.transaction.models.add(model);
    if (!owner) this.add(t.accessorNode, 'unknown-model', [model], service, { accessor: t.accessor, monolithOnly: true });
    else if (service && owner !== service) {
      const fixable = t.client.replaceable && !t.client.transaction && t.clientExpr !== undefined;
      const finding = this.add(t.accessorNode, 'foreign-model', [model], service, { owner, inTransaction: Boolean(t.client.transaction) }, fixable);
      if (fixable) {
        const importName = factoryName(owner);
        this.fixes.push({ finding, importName, edits: [{ start: t.clientExpr!.getStart(this.sf), end: t.clientExpr!.getEnd(), text: `${importName}()` }] });
      }
    }
    const walker = new ArgsWalker(own, scope, (issue) => this.addIssue(issue, service));
    walker.walkArgs(model, method, call.arguments[0]);
  }

  private onTransaction(call: TS.CallExpression, recv: TS.Expression, scope: Scope): (() => void) | undefined {
    const client = this.clientOrNamed(recv, scope);
    const arg = call.arguments[0];
    if (!client || !arg) return undefined;
    const tx: TransactionScope = { node: call.expression, models: new Set() };
    if (ts.isArrowFunction(arg) || ts.isFunctionExpression(arg)) {
      this.txCallbacks.set(arg, { service: client.service, transaction: tx, replaceable: false, certain: true });
    } else if (ts.isArrayLiteralExpression(arg)) {
      for (const el of arg.elements) {
        if (!ts.isCallExpression(el) || !ts.isPropertyAccessExpression(el.expression)) continue;
        const d = this.delegateOf(el.expression.expression, scope);
        const model = d && this.input.ownership.modelByAccessor.get(d.accessor);
        if (model) tx.models.add(model);
      }
    }
    return () => {
      const owners = new Set([...tx.models].map((m) => this.input.ownership.ownerOf.get(m)).filter(Boolean));
      if (owners.size > 1) this.add((call.expression as TS.PropertyAccessExpression).name, 'cross-service-transaction', [...tx.models].sort(), client.service ?? this.input.service, { owners: [...owners] as string[] });
    };
  }

  private onTaggedTemplate(node: TS.TaggedTemplateExpression, scope: Scope): void {
    const tag = node.tag;
    if (!ts.isPropertyAccessExpression(tag) || !isRawMethod(tag.name.text)) return;
    const client = this.clientOrNamed(tag.expression, scope);
    if (client) this.onRawSql(node, client, rawSqlText(node.template));
  }

  private onRawSql(node: TS.Node, client: ClientRef, sql: string | undefined): void {
    if (sql === undefined) return;
    const own = this.input.ownership;
    const service = client.service ?? this.input.service;
    const models = tablesInSql(sql, own);
    if (client.transaction) for (const m of models) client.transaction.models.add(m);
    const owners = new Set(models.map((m) => own.ownerOf.get(m)));
    const foreign = service ? models.filter((m) => own.ownerOf.get(m) !== service) : owners.size > 1 ? models : [];
    if (foreign.length > 0) this.add(node, 'raw-sql-foreign-table', foreign, service, { owners: [...new Set(foreign.map((m) => own.ownerOf.get(m)!))] });
  }

  private addIssue(issue: ArgIssue, service: string | undefined): void {
    this.add(issue.node, issue.kind, issue.models, service, { relation: issue.relation, field: issue.field, op: issue.op });
  }

  private add(node: TS.Node, kind: FindingKind, models: readonly string[], service: string | undefined, facts: Record<string, unknown>, autofix = false): Finding {
    const start = this.sf.getLineAndCharacterOfPosition(node.getStart(this.sf));
    const end = this.sf.getLineAndCharacterOfPosition(node.getEnd());
    const { message, fix } = describeIssue(kind, models, service, facts, this.input.ownership);
    const finding: Finding = {
      file: this.input.file, line: start.line + 1, column: start.character + 1, endLine: end.line + 1, endColumn: end.character + 1,
      kind, models, service, message, fix, autofix,
    };
    this.findings.push(finding);
    return finding;
  }
}
