import { Decimal } from '@prisma/client/runtime/client';
import type { CacheKeys } from './cache-keys.ts';
import { readDependencies } from './read-dependencies.ts';
import type { ModelInfo, SchemaCatalog, UniqueKey } from './schema-catalog.ts';

/** A write as the per-model `invalidates` rule sees it. */
export interface WriteEvent {
  readonly model: string;
  readonly operation: string;
  readonly args: Readonly<Record<string, unknown>>;
  /**
   * The rows the write touched, every scalar column of each, as they were before the write and as
   * they are after it (a row moved from machine A to B appears with both), whatever the write's
   * own `select`/`omit`: read by the cache where the write's result does not give them (update,
   * upsert, delete, updateMany, deleteMany). Creates give their result merged over their `data`.
   * Given to models with an `invalidates` rule only.
   */
  readonly rows: readonly Readonly<Record<string, unknown>>[] | undefined;
}

const UNIQUE_READS = new Set(['findUnique', 'findUniqueOrThrow']);
const ROWS_UNKNOWN = new Set(['createMany', 'createManyAndReturn', 'updateMany', 'updateManyAndReturn', 'deleteMany']);
const DELETES = new Set(['delete', 'deleteMany']);
const UPDATES = new Set(['update', 'updateMany', 'updateManyAndReturn', 'upsert']);

/**
 * Decides which generation keys a read depends on and which ones a write bumps.
 *
 * Reads: findUnique/findUniqueOrThrow by a unique key depend on that row's key and on the model's
 * "rows unknown" key; every other read depends on the model's list key. Both also depend on the list
 * key of every model Prisma reads for them (readDependencies: include, select, `_count`, relation
 * filters, ordering by relations), on their tags, and on the epoch (shared by all services).
 *
 * Writes bump the model's list key, and either the row keys of every unique key of the rows written
 * (when the write's pre- and post-images are both known from its `where` and its result) or the
 * model's "rows unknown" key. Nested writes, and cascades of deletes and key changes to models that
 * reference this one, bump those models' list and "rows unknown" keys.
 */
export class DependencyPlanner {
  readonly #catalog: SchemaCatalog;
  readonly #keys: CacheKeys;

  constructor(catalog: SchemaCatalog, keys: CacheKeys) {
    this.#catalog = catalog;
    this.#keys = keys;
  }

  /**
   * The generation keys a read depends on, or undefined when its dependencies cannot be derived
   * (see readDependencies): such a read is not cached.
   */
  readKeys(model: string, operation: string, args: Readonly<Record<string, unknown>>, tags: readonly string[]): string[] | undefined {
    const info = this.#catalog.models.get(model);
    if (!info) return undefined;
    const related = readDependencies(this.#catalog, model, args);
    if (related === undefined) return undefined;
    const keys = [this.#keys.epoch];
    const selectors = UNIQUE_READS.has(operation) ? whereSelectors(info, args.where) : [];
    if (selectors.length > 0) {
      keys.push(this.#keys.anyUnique(model), ...selectors.map((s) => this.#keys.row(model, s)));
    } else {
      keys.push(this.#keys.list(model));
    }
    for (const m of [...related].sort()) keys.push(this.#keys.list(m));
    for (const t of [...new Set(tags)].sort()) keys.push(this.#keys.tag(t));
    return keys;
  }

  /** Every list and rows-unknown key of the service: what a write the cache cannot see into (raw SQL) bumps. */
  serviceKeys(): string[] {
    return [...this.#catalog.models.keys()].flatMap((m) => [this.#keys.list(m), this.#keys.anyUnique(m)]);
  }

  /** Keys to bump after `operation` on `model` succeeded with `result`; `tags` come from the caller and the model's rule. */
  writeKeys(model: string, operation: string, args: Readonly<Record<string, unknown>>, result: unknown, tags: Iterable<string>): string[] {
    const keys = new Set<string>([this.#keys.list(model)]);
    const info = this.#catalog.models.get(model);
    if (!info) {
      keys.add(this.#keys.anyUnique(model));
    } else {
      const precise = ROWS_UNKNOWN.has(operation) ? undefined : this.#rowSelectors(info, operation, args, result);
      if (precise === undefined) keys.add(this.#keys.anyUnique(model));
      else for (const s of precise) keys.add(this.#keys.row(model, s));
      const touched = new Set<string>();
      for (const data of writtenData(operation, args)) this.#collectRelated(info, data, touched);
      if (DELETES.has(operation) || (UPDATES.has(operation) && touchesAny(info, args, info.referencedFields))) {
        for (const d of info.dependents) touched.add(d);
      }
      for (const m of touched) {
        keys.add(this.#keys.list(m));
        keys.add(this.#keys.anyUnique(m));
      }
    }
    for (const t of tags) keys.add(this.#keys.tag(t));
    return [...keys];
  }

  /** Every unique-key selector of the rows a single-row write touched, before and after; undefined if some are unknown. */
  #rowSelectors(info: ModelInfo, operation: string, args: Readonly<Record<string, unknown>>, result: unknown): string[] | undefined {
    if (result === null || typeof result !== 'object') return undefined;
    const row = result as Record<string, unknown>;
    const changed = operation === 'update' ? dataFields(info, args.data) : operation === 'upsert' ? dataFields(info, args.update) : new Set<string>();
    const out: string[] = [];
    for (const key of info.uniqueKeys) {
      const after = rowSelector(info, key, row);
      if (after === undefined) return undefined;
      if (after !== null) out.push(after);
      if (key.fields.some((f) => changed.has(f))) {
        // The row's old value of this key is only known if the write named it in `where`.
        const before = whereSelector(info, key, args.where);
        if (before === undefined) return undefined;
        out.push(before);
      }
    }
    return out;
  }

  /** Adds every model reached through a relation field anywhere in `value` (read with `info` as context). */
  #collectRelated(info: ModelInfo, value: unknown, out: Set<string>): void {
    if (value === null || typeof value !== 'object') return;
    if (Array.isArray(value)) {
      for (const v of value) this.#collectRelated(info, v, out);
      return;
    }
    if (Object.getPrototypeOf(value) !== Object.prototype) return;
    for (const [k, v] of Object.entries(value)) {
      const target = info.relations.get(k);
      const next = target === undefined ? info : this.#catalog.models.get(target);
      if (target !== undefined) out.add(target);
      if (next) this.#collectRelated(next, v, out);
    }
  }
}

function writtenData(operation: string, args: Readonly<Record<string, unknown>>): unknown[] {
  return operation === 'upsert' ? [args.create, args.update] : [args.data];
}

/** Scalar fields a write's data sets, including foreign keys set through a relation (`connect`). */
function dataFields(info: ModelInfo, data: unknown): Set<string> {
  const out = new Set<string>();
  if (data === null || typeof data !== 'object') return out;
  for (const k of Object.keys(data)) {
    out.add(k);
    for (const f of info.relationKeys.get(k) ?? []) out.add(f);
  }
  return out;
}

function touchesAny(info: ModelInfo, args: Readonly<Record<string, unknown>>, fields: ReadonlySet<string>): boolean {
  if (fields.size === 0) return false;
  for (const data of [args.data, args.update]) for (const f of dataFields(info, data)) if (fields.has(f)) return true;
  return false;
}

/** The selectors a findUnique `where` names (a unique field given as a plain value, or a compound key object). */
function whereSelectors(info: ModelInfo, where: unknown): string[] {
  const out: string[] = [];
  for (const key of info.uniqueKeys) {
    const s = whereSelector(info, key, where);
    if (s) out.push(s);
  }
  return out;
}

function whereSelector(info: ModelInfo, key: UniqueKey, where: unknown): string | undefined {
  if (where === null || typeof where !== 'object') return undefined;
  const w = where as Record<string, unknown>;
  const source = key.fields.length === 1 ? w : w[key.name];
  if (source === null || typeof source !== 'object') return undefined;
  return rowSelector(info, key, source as Record<string, unknown>) ?? undefined;
}

/**
 * `<key>=<values>` for a row (or a where object holding plain values). null: the row has a null in
 * this key, so no findUnique can name it. undefined: a field is missing or not a plain value.
 */
function rowSelector(info: ModelInfo, key: UniqueKey, row: Record<string, unknown>): string | null | undefined {
  const parts: string[] = [];
  let hasNull = false;
  for (const f of key.fields) {
    if (!Object.prototype.hasOwnProperty.call(row, f)) return undefined;
    const v = row[f];
    if (v === null) {
      hasNull = true;
      continue;
    }
    const n = normalize(info.scalars.get(f), v);
    if (n === undefined) return undefined;
    parts.push(n);
  }
  return hasNull ? null : `${key.name}=${parts.join('&')}`;
}

/** One text per value whatever input form Prisma accepted (1n or 1 for BigInt, Date or ISO string...). */
function normalize(type: string | undefined, v: unknown): string | undefined {
  try {
    switch (type) {
      case 'String':
        return typeof v === 'string' ? encodeURIComponent(v) : undefined;
      case 'Int':
      case 'Float':
        return typeof v === 'number' ? String(v) : undefined;
      case 'BigInt':
        return typeof v === 'bigint' || typeof v === 'number' || typeof v === 'string' ? BigInt(v).toString() : undefined;
      case 'Decimal':
        return Decimal.isDecimal(v) || typeof v === 'number' || typeof v === 'string' ? new Decimal(v as Decimal.Value).toString() : undefined;
      case 'DateTime':
        return v instanceof Date || typeof v === 'string' ? String(new Date(v).getTime()) : undefined;
      case 'Boolean':
        return typeof v === 'boolean' ? String(v) : undefined;
      case 'Bytes':
        return v instanceof Uint8Array ? Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('base64url') : undefined;
      default:
        // Enums and anything else given as text.
        return typeof v === 'string' ? encodeURIComponent(v) : undefined;
    }
  } catch {
    return undefined;
  }
}
