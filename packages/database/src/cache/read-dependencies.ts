import type { ModelInfo, SchemaCatalog } from './schema-catalog.ts';

/**
 * Every other model a read of `model` reads, derived from what Prisma will read for its arguments
 * rather than from the field names written in them: `include`/`select` of a relation (with
 * `true`, i.e. Prisma's default selection, or nested arguments), `_count: true` (every list
 * relation of the model), `_count: { select: { rel: { where } } }`, relation filters
 * (`some`/`every`/`none`/`is`/`isNot` and the to-one shorthand), ordering by a relation or by
 * its `_count`, at any depth.
 *
 * Returns undefined when the arguments hold something this walk does not understand (an unknown
 * argument, an operator where a field was expected, a model missing from the catalog): such a
 * read must not be cached, since its dependencies are unknown.
 *
 * @example readDependencies(catalog, 'Task', { include: { _count: true } }) // Set { 'TaskAction' }
 */
export function readDependencies(catalog: SchemaCatalog, model: string, args: Readonly<Record<string, unknown>>): Set<string> | undefined {
  const info = catalog.models.get(model);
  if (!info) return undefined;
  const out = new Set<string>();
  try {
    new Walk(catalog, out).args(info, args, true);
  } catch (e) {
    if (e === UNDERIVABLE) return undefined;
    throw e;
  }
  out.delete(model);
  return out;
}

const UNDERIVABLE = Symbol('underivable');
const fail = (): never => {
  throw UNDERIVABLE;
};

const PLAIN_ARGS = new Set(['take', 'skip', 'distinct', 'relationLoadStrategy']);
const LOGICAL = new Set(['AND', 'OR', 'NOT']);
const RELATION_FILTERS = new Set(['some', 'every', 'none', 'is', 'isNot']);

function isPlainObject(v: unknown): v is Record<string, unknown> {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) return false;
  const proto = Object.getPrototypeOf(v) as unknown;
  return proto === Object.prototype || proto === null;
}

class Walk {
  constructor(
    readonly catalog: SchemaCatalog,
    readonly out: Set<string>,
  ) {}

  /** `{ where, select, include, omit, orderBy, cursor, take, skip, distinct }` of a read (top level or a nested relation). */
  args(info: ModelInfo, args: unknown, topLevel: boolean): void {
    if (args === undefined || args === null) return;
    if (!isPlainObject(args)) fail();
    for (const [k, v] of Object.entries(args as Record<string, unknown>)) {
      if (v === undefined) continue;
      if (k === 'where' || k === 'cursor') this.where(info, v);
      else if (k === 'select') this.selection(info, v, false);
      else if (k === 'include') this.selection(info, v, true);
      else if (k === 'omit') this.omit(info, v);
      else if (k === 'orderBy') this.orderBy(info, v);
      else if (!PLAIN_ARGS.has(k) || (k === 'relationLoadStrategy' && !topLevel)) fail();
    }
  }

  #target(info: ModelInfo, relation: string): ModelInfo {
    const target = this.catalog.models.get(info.relations.get(relation)!);
    if (!target) return fail();
    this.out.add(target.name);
    return target;
  }

  where(info: ModelInfo, where: unknown): void {
    if (where === undefined || where === null) return;
    if (Array.isArray(where)) {
      for (const w of where) this.where(info, w);
      return;
    }
    if (!isPlainObject(where)) fail();
    for (const [k, v] of Object.entries(where as Record<string, unknown>)) {
      if (v === undefined) continue;
      if (LOGICAL.has(k)) this.where(info, v);
      else if (info.relations.has(k)) this.#relationFilter(this.#target(info, k), v);
      else if (!info.scalars.has(k) && !info.uniqueKeys.some((u) => u.fields.length > 1 && u.name === k)) fail();
    }
  }

  #relationFilter(target: ModelInfo, filter: unknown): void {
    if (filter === null) return;
    if (!isPlainObject(filter)) fail();
    const keys = Object.keys(filter as Record<string, unknown>);
    if (keys.length > 0 && keys.every((k) => RELATION_FILTERS.has(k))) {
      for (const k of keys) this.where(target, (filter as Record<string, unknown>)[k]);
    } else {
      // The to-one shorthand: `where: { location: { isActive: true } }`.
      this.where(target, filter);
    }
  }

  /** `select` or `include`: scalars, relations (true = Prisma's default selection, or nested arguments), `_count`. */
  selection(info: ModelInfo, sel: unknown, isInclude: boolean): void {
    if (sel === undefined || sel === null) return;
    if (!isPlainObject(sel)) fail();
    for (const [k, v] of Object.entries(sel as Record<string, unknown>)) {
      if (v === undefined || v === false) continue;
      if (k === '_count') this.#count(info, v);
      else if (info.relations.has(k)) {
        const target = this.#target(info, k);
        if (v !== true) this.args(target, v, false);
      } else if (info.scalars.has(k) || (!isInclude && k === '_all')) {
        if (typeof v !== 'boolean') fail();
      } else if (typeof v !== 'boolean') {
        fail();
      }
      // Anything else selected with `true` is a computed field of a result extension: it is
      // computed from this model's own scalar fields, so it adds no dependency.
    }
  }

  #count(info: ModelInfo, v: unknown): void {
    if (v === true) {
      // Prisma counts every list relation of the model.
      for (const rel of info.listRelations) this.#target(info, rel);
      return;
    }
    if (!isPlainObject(v)) fail();
    for (const [k, sub] of Object.entries(v as Record<string, unknown>)) {
      if (sub === undefined) continue;
      if (k !== 'select' || !isPlainObject(sub)) fail();
      for (const [rel, relArgs] of Object.entries(sub as Record<string, unknown>)) {
        if (relArgs === undefined || relArgs === false) continue;
        if (!info.relations.has(rel)) fail();
        const target = this.#target(info, rel);
        if (relArgs === true) continue;
        if (!isPlainObject(relArgs)) fail();
        for (const [a, w] of Object.entries(relArgs as Record<string, unknown>)) {
          if (a === 'where') this.where(target, w);
          else if (w !== undefined) fail();
        }
      }
    }
  }

  omit(info: ModelInfo, omit: unknown): void {
    if (omit === undefined || omit === null) return;
    if (!isPlainObject(omit)) fail();
    for (const [k, v] of Object.entries(omit as Record<string, unknown>)) {
      if (v !== undefined && typeof v !== 'boolean') fail();
      if (info.relations.has(k)) fail();
    }
  }

  orderBy(info: ModelInfo, order: unknown): void {
    if (order === undefined || order === null) return;
    if (Array.isArray(order)) {
      for (const o of order) this.orderBy(info, o);
      return;
    }
    if (!isPlainObject(order)) fail();
    for (const [k, v] of Object.entries(order as Record<string, unknown>)) {
      if (v === undefined) continue;
      if (info.relations.has(k)) {
        const target = this.#target(info, k);
        if (!isPlainObject(v)) fail();
        for (const [tk, tv] of Object.entries(v as Record<string, unknown>)) {
          if (tk === '_count') continue;
          this.orderBy(target, { [tk]: tv });
        }
      } else if (!info.scalars.has(k) && k !== '_relevance') {
        fail();
      }
    }
  }
}
