import type * as TS from 'typescript';
import { ts } from './typescript.ts';
import type { FindingKind } from './finding.ts';
import type { Ownership, RelationInfo } from './ownership.ts';
import type { Scope } from './client-scope.ts';

/** What the walker reports back for one key of a Prisma arguments object. */
export interface ArgIssue {
  readonly node: TS.Node;
  readonly kind: FindingKind;
  readonly models: readonly string[];
  readonly relation?: RelationInfo;
  readonly field?: string;
  readonly op?: string;
}

type Report = (issue: ArgIssue) => void;

const LOGICAL = new Set(['AND', 'OR', 'NOT']);
const TO_MANY_FILTERS = new Set(['some', 'every', 'none']);
const TO_ONE_FILTERS = new Set(['is', 'isNot']);
const CONNECT_OPS = new Set(['connect', 'connectOrCreate', 'disconnect', 'set']);
const WRITE_OPS = new Set(['create', 'createMany', 'update', 'updateMany', 'upsert', 'delete', 'deleteMany']);
const AGGREGATES = new Set(['_count', '_sum', '_avg', '_min', '_max', '_relevance']);

/** Resolves an arguments value to an object literal: inline, or a `const` in scope holding one. */
export function objectOf(e: TS.Expression | undefined, scope: Scope): TS.ObjectLiteralExpression | undefined {
  if (!e) return undefined;
  let x = e;
  while (ts.isParenthesizedExpression(x) || ts.isAsExpression(x) || ts.isSatisfiesExpression(x)) x = x.expression;
  if (ts.isObjectLiteralExpression(x)) return x;
  if (ts.isIdentifier(x)) {
    const b = scope.lookup(x.text);
    return b?.kind === 'object' ? b.node : undefined;
  }
  return undefined;
}

/** `{ a: 1, b }` and spreads of resolvable objects → [name, name node, value] in source order. */
export function propertiesOf(obj: TS.ObjectLiteralExpression, scope: Scope, seen = new Set<TS.Node>()): [string, TS.Node, TS.Expression | undefined][] {
  if (seen.has(obj)) return [];
  seen.add(obj);
  const out: [string, TS.Node, TS.Expression | undefined][] = [];
  for (const p of obj.properties) {
    if (ts.isPropertyAssignment(p) && (ts.isIdentifier(p.name) || ts.isStringLiteral(p.name))) out.push([p.name.text, p.name, p.initializer]);
    else if (ts.isShorthandPropertyAssignment(p)) out.push([p.name.text, p.name, p.name]);
    else if (ts.isSpreadAssignment(p)) {
      const inner = objectOf(p.expression, scope);
      if (inner) out.push(...propertiesOf(inner, scope, seen));
    }
  }
  return out;
}

/** Walks the arguments of one model call (`findMany({ … })`) and reports every key that breaks. */
export class ArgsWalker {
  constructor(
    private readonly own: Ownership,
    private readonly scope: Scope,
    private readonly report: Report,
  ) {}

  /** The top-level arguments object of `<model>.<method>(args)`. */
  walkArgs(model: string, method: string, args: TS.Expression | undefined): void {
    const obj = objectOf(args, this.scope);
    if (!obj) return;
    for (const [key, node, value] of propertiesOf(obj, this.scope)) {
      if (key === 'where' || key === 'having') this.walkWhere(model, value);
      else if (key === 'include' || key === 'select') this.walkSelection(model, value, key === 'select');
      else if (key === 'orderBy') this.walkOrderBy(model, value);
      else if (key === 'data' || key === 'create' || key === 'update') this.walkData(model, value, method);
      else if (key === 'cursor') this.walkScalarKeys(model, value);
      else if (key === '_count' && (method === 'count' || method === 'aggregate' || method === 'groupBy')) continue;
      void node;
    }
  }

  private fields(model: string) {
    return this.own.fieldsOf(model);
  }

  private unknown(model: string, key: string, node: TS.Node): void {
    this.report({ node, kind: 'unknown-field', models: [model], field: key });
  }

  walkWhere(model: string, value: TS.Expression | undefined): void {
    const items = value && ts.isArrayLiteralExpression(value) ? value.elements : [value];
    for (const item of items) {
      const obj = objectOf(item as TS.Expression | undefined, this.scope);
      if (!obj) continue;
      const f = this.fields(model);
      for (const [key, node, v] of propertiesOf(obj, this.scope)) {
        if (LOGICAL.has(key)) {
          this.walkWhere(model, v);
          continue;
        }
        const rel = f?.relations.get(key);
        if (rel) {
          if (rel.crosses) this.report({ node, kind: 'cross-service-where', models: [model, rel.target], relation: rel });
          this.walkRelationFilter(rel, v);
          continue;
        }
        if (f && !f.scalars.has(key) && !f.compoundKeys.has(key)) this.unknown(model, key, node);
      }
    }
  }

  private walkRelationFilter(rel: RelationInfo, value: TS.Expression | undefined): void {
    const obj = objectOf(value, this.scope);
    if (!obj) return;
    const props = propertiesOf(obj, this.scope);
    const wrapped = props.some(([k]) => TO_MANY_FILTERS.has(k) || TO_ONE_FILTERS.has(k));
    if (!wrapped) return this.walkWhere(rel.target, obj);
    for (const [k, , v] of props) if (TO_MANY_FILTERS.has(k) || TO_ONE_FILTERS.has(k)) this.walkWhere(rel.target, v);
  }

  walkSelection(model: string, value: TS.Expression | undefined, _isSelect: boolean): void {
    const obj = objectOf(value, this.scope);
    if (!obj) return;
    const f = this.fields(model);
    for (const [key, node, v] of propertiesOf(obj, this.scope)) {
      if (key === '_count') {
        this.walkCount(model, v);
        continue;
      }
      const rel = f?.relations.get(key);
      if (rel) {
        if (rel.crosses) this.report({ node, kind: 'cross-service-include', models: [model, rel.target], relation: rel });
        this.walkNested(rel.target, v);
        continue;
      }
      if (f && !f.scalars.has(key)) this.unknown(model, key, node);
    }
  }

  /** `{ select: …, include: …, where: …, orderBy: … }` under a relation key. */
  private walkNested(model: string, value: TS.Expression | undefined): void {
    const obj = objectOf(value, this.scope);
    if (!obj) return;
    for (const [key, , v] of propertiesOf(obj, this.scope)) {
      if (key === 'include' || key === 'select') this.walkSelection(model, v, key === 'select');
      else if (key === 'where') this.walkWhere(model, v);
      else if (key === 'orderBy') this.walkOrderBy(model, v);
    }
  }

  private walkCount(model: string, value: TS.Expression | undefined): void {
    const obj = objectOf(value, this.scope);
    if (!obj) return;
    const select = propertiesOf(obj, this.scope).find(([k]) => k === 'select');
    const sel = objectOf(select?.[2], this.scope);
    if (!sel) return;
    const f = this.fields(model);
    for (const [key, node, v] of propertiesOf(sel, this.scope)) {
      const rel = f?.relations.get(key);
      if (!rel) {
        if (f) this.unknown(model, key, node);
        continue;
      }
      if (rel.crosses) this.report({ node, kind: 'cross-service-count', models: [model, rel.target], relation: rel });
      const where = objectOf(v, this.scope) && propertiesOf(objectOf(v, this.scope)!, this.scope).find(([k]) => k === 'where');
      if (where) this.walkWhere(rel.target, where[2]);
    }
  }

  walkOrderBy(model: string, value: TS.Expression | undefined): void {
    const items = value && ts.isArrayLiteralExpression(value) ? value.elements : [value];
    for (const item of items) {
      const obj = objectOf(item as TS.Expression | undefined, this.scope);
      if (!obj) continue;
      const f = this.fields(model);
      for (const [key, node, v] of propertiesOf(obj, this.scope)) {
        if (AGGREGATES.has(key)) continue;
        const rel = f?.relations.get(key);
        if (rel) {
          if (rel.crosses) this.report({ node, kind: 'cross-service-orderby', models: [model, rel.target], relation: rel });
          if (!rel.list) this.walkOrderBy(rel.target, v);
          continue;
        }
        if (f && !f.scalars.has(key)) this.unknown(model, key, node);
      }
    }
  }

  private walkScalarKeys(model: string, value: TS.Expression | undefined): void {
    const obj = objectOf(value, this.scope);
    const f = this.fields(model);
    if (!obj || !f) return;
    for (const [key, node] of propertiesOf(obj, this.scope)) {
      if (!f.scalars.has(key) && !f.compoundKeys.has(key)) this.unknown(model, key, node);
    }
  }

  /** `data` of create/update (an object, or an array for createMany). */
  walkData(model: string, value: TS.Expression | undefined, method: string): void {
    const items = value && ts.isArrayLiteralExpression(value) ? value.elements : [value];
    for (const item of items) {
      const obj = objectOf(item as TS.Expression | undefined, this.scope);
      if (!obj) continue;
      const f = this.fields(model);
      for (const [key, node, v] of propertiesOf(obj, this.scope)) {
        const rel = f?.relations.get(key);
        if (rel) {
          this.walkRelationWrite(rel, node, v, method);
          continue;
        }
        if (f && !f.scalars.has(key)) {
          this.unknown(model, key, node);
          continue;
        }
        const soft = this.own.softReferences.get(`${model}.${key}`);
        // Clearing the reference (null/undefined) cannot leave it dangling.
        const clears = v !== undefined && (v.kind === ts.SyntaxKind.NullKeyword || (ts.isIdentifier(v) && v.text === 'undefined'));
        if (soft && !clears) this.report({ node, kind: 'soft-reference-write', models: [model, soft.target], field: key });
      }
    }
  }

  private walkRelationWrite(rel: RelationInfo, node: TS.Node, value: TS.Expression | undefined, method: string): void {
    const obj = objectOf(value, this.scope);
    if (!obj) return;
    for (const [op, opNode, v] of propertiesOf(obj, this.scope)) {
      if (rel.crosses) {
        if (CONNECT_OPS.has(op)) this.report({ node: opNode, kind: 'cross-service-connect', models: [rel.model, rel.target], relation: rel, op });
        else if (WRITE_OPS.has(op)) this.report({ node: opNode, kind: 'cross-service-nested-write', models: [rel.model, rel.target], relation: rel, op });
        continue;
      }
      if (op === 'create' || op === 'connectOrCreate' || op === 'upsert') {
        const inner = objectOf(v, this.scope);
        if (op === 'create' || !inner) this.walkData(rel.target, v, method);
        else for (const [k, , iv] of propertiesOf(inner, this.scope)) if (k === 'create' || k === 'update') this.walkData(rel.target, iv, method);
      } else if (op === 'createMany') {
        const inner = objectOf(v, this.scope);
        const data = inner && propertiesOf(inner, this.scope).find(([k]) => k === 'data');
        if (data) this.walkData(rel.target, data[2], method);
      } else if (op === 'update' || op === 'updateMany') {
        const inner = objectOf(v, this.scope);
        const data = inner && propertiesOf(inner, this.scope).find(([k]) => k === 'data');
        this.walkData(rel.target, data ? data[2] : v, method);
      }
    }
    void node;
  }
}
