import type * as TS from 'typescript';
import { ts } from './typescript.ts';
import type { FindingFix } from './analyze-source.ts';
import type { TextEdit } from './finding.ts';

export const PACKAGE_NAME = '@vendhub/database';

/**
 * The edits that fix a file's mechanical findings: each receiver replaced by the owning service's
 * client (`prisma.auditLog` → `getAuthClient().auditLog`) and the factories imported once (merged
 * into an existing import/require of `@vendhub/database`, or a new line after the last one, in the
 * file's own quote and semicolon style). Running it again on its output changes nothing.
 */
export function fixEdits(text: string, file: string, fixes: readonly FindingFix[], module: 'esm' | 'cjs'): TextEdit[] {
  if (fixes.length === 0) return [];
  const sf = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true, /\.tsx?$|\.[cm]ts$/.test(file) ? ts.ScriptKind.TS : ts.ScriptKind.JSX);
  const edits = fixes.flatMap((f) => f.edits);
  const declared = declaredTopLevelNames(sf);
  // In order of first use: the same text whether applied at once or one fix at a time (ESLint).
  const ordered = [...fixes].sort((a, b) => (a.edits[0]?.start ?? 0) - (b.edits[0]?.start ?? 0));
  const names = [...new Set(ordered.map((f) => f.importName))].filter((n) => !declared.has(n));
  if (names.length > 0) edits.push(importEdit(sf, text, names, module));
  return edits;
}

/** Applies non-overlapping edits (later ones first, so offsets stay valid). */
export function applyEdits(text: string, edits: readonly TextEdit[]): string {
  const sorted = [...edits].sort((a, b) => b.start - a.start || b.end - a.end);
  let out = text;
  let floor = Infinity;
  for (const e of sorted) {
    if (e.end > floor) continue; // overlapping: the later edit already covers it
    out = out.slice(0, e.start) + e.text + out.slice(e.end);
    floor = e.start;
  }
  return out;
}

function declaredTopLevelNames(sf: TS.SourceFile): Set<string> {
  const names = new Set<string>();
  for (const st of sf.statements) {
    if (ts.isImportDeclaration(st) && st.importClause) {
      const nb = st.importClause.namedBindings;
      if (nb && ts.isNamedImports(nb)) for (const el of nb.elements) names.add(el.name.text);
      if (st.importClause.name) names.add(st.importClause.name.text);
    } else if (ts.isVariableStatement(st)) {
      for (const d of st.declarationList.declarations) {
        if (ts.isIdentifier(d.name)) names.add(d.name.text);
        else if (ts.isObjectBindingPattern(d.name)) for (const el of d.name.elements) if (ts.isIdentifier(el.name)) names.add(el.name.text);
      }
    } else if (ts.isFunctionDeclaration(st) && st.name) names.add(st.name.text);
  }
  return names;
}

const isRequireOfPackage = (e: TS.Expression | undefined): boolean =>
  e !== undefined && ts.isCallExpression(e) && ts.isIdentifier(e.expression) && e.expression.text === 'require' && e.arguments[0] !== undefined && ts.isStringLiteralLike(e.arguments[0]!) && (e.arguments[0] as TS.StringLiteral).text === PACKAGE_NAME;

const isRequireStatement = (st: TS.Statement): boolean =>
  ts.isVariableStatement(st) && st.declarationList.declarations.some((d) => {
    let init = d.initializer;
    while (init && ts.isPropertyAccessExpression(init)) init = init.expression;
    return init !== undefined && ts.isCallExpression(init) && ts.isIdentifier(init.expression) && init.expression.text === 'require';
  });

function importEdit(sf: TS.SourceFile, text: string, names: readonly string[], module: 'esm' | 'cjs'): TextEdit {
  for (const st of sf.statements) {
    if (module === 'esm' && ts.isImportDeclaration(st) && ts.isStringLiteral(st.moduleSpecifier) && st.moduleSpecifier.text === PACKAGE_NAME) {
      const nb = st.importClause?.namedBindings;
      if (nb && ts.isNamedImports(nb) && nb.elements.length > 0) {
        const last = nb.elements[nb.elements.length - 1]!;
        return { start: last.getEnd(), end: last.getEnd(), text: names.map((n) => `, ${n}`).join('') };
      }
    }
    if (module === 'cjs' && ts.isVariableStatement(st)) {
      for (const d of st.declarationList.declarations) {
        if (ts.isObjectBindingPattern(d.name) && d.name.elements.length > 0 && isRequireOfPackage(d.initializer)) {
          const last = d.name.elements[d.name.elements.length - 1]!;
          return { start: last.getEnd(), end: last.getEnd(), text: names.map((n) => `, ${n}`).join('') };
        }
      }
    }
  }
  const anchors = sf.statements.filter((st) => (module === 'esm' ? ts.isImportDeclaration(st) : isRequireStatement(st)));
  const style = styleOf(sf, text, anchors[0]);
  const line = module === 'esm'
    ? `import { ${names.join(', ')} } from ${style.quote}${PACKAGE_NAME}${style.quote}${style.semi}`
    : `const { ${names.join(', ')} } = require(${style.quote}${PACKAGE_NAME}${style.quote})${style.semi}`;
  const anchor = anchors[anchors.length - 1];
  if (anchor) return { start: anchor.getEnd(), end: anchor.getEnd(), text: `\n${line}` };
  const top = topInsertionPoint(sf, text);
  return { start: top, end: top, text: `${line}\n` };
}

/** After a shebang, leading comments and a 'use strict' directive. */
function topInsertionPoint(sf: TS.SourceFile, text: string): number {
  const first = sf.statements[0];
  if (first && ts.isExpressionStatement(first) && ts.isStringLiteral(first.expression) && first.expression.text === 'use strict') {
    const nl = text.indexOf('\n', first.getEnd());
    return nl < 0 ? text.length : nl + 1;
  }
  return first ? first.getStart(sf) : text.length;
}

function styleOf(sf: TS.SourceFile, text: string, sample: TS.Statement | undefined): { quote: string; semi: string } {
  const st = sample ?? sf.statements[0];
  const src = st ? text.slice(st.getStart(sf), st.getEnd()) : '';
  const quote = /"/.test(src) && !/'/.test(src) ? '"' : "'";
  const semi = st && !src.trimEnd().endsWith(';') ? '' : ';';
  return { quote, semi };
}
