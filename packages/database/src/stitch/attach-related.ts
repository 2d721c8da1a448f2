import type { Types } from '@prisma/client/runtime/client';

/**
 * What was an `include` across services, after the split: the rows of one service, their related
 * rows loaded from the owning service in one batched query per relation, attached under the same
 * key as before, so `task.assignedTo?.name` and `machine._count.tasks` keep working.
 */

/** Anything with Prisma's `findMany` (a model delegate of any service client). */
export interface FindManyDelegate<T> {
  findMany(args?: any): PromiseLike<T[]>;
}

/** Anything with Prisma's `groupBy`. */
export interface GroupByDelegate {
  groupBy(args: any): PromiseLike<unknown[]>;
}

/** A cache for to-one lookups (a `Map` works: per request, or longer if the rows allow it). */
export interface RelatedCache {
  get(key: string): unknown;
  set(key: string, value: unknown): unknown;
}

interface Common {
  /** IDs per query (each becomes a bind parameter; PostgreSQL allows 65,535). Default 1,000. */
  chunkSize?: number;
}

/** More arguments for each `findMany` (e.g. `{ cache: true }`: the service clients' Redis cache). */
type ExtraArgs = Record<string, unknown>;

export interface OneSpec<T> extends Common {
  readonly kind: 'one';
  readonly delegate: FindManyDelegate<T>;
  /** The row's field holding the key (`assignedToId`). */
  readonly by: string;
  /** The related model's field it matches. Default `id`. */
  readonly references: string;
  readonly select?: Record<string, unknown>;
  readonly include?: Record<string, unknown>;
  readonly cache?: RelatedCache;
  /** Cache key prefix, to keep models apart in one cache. Default: the `by` field. */
  readonly cacheKey?: string;
  /** More `findMany` arguments (`{ cache: true }`); the spec's own where/select/include win. */
  readonly args?: ExtraArgs;
  /** Phantom: the attached type. */
  readonly __result?: T | null;
}

export interface ManySpec<T> extends Common {
  readonly kind: 'many';
  readonly delegate: FindManyDelegate<T>;
  /** The related model's field pointing back at the row (`machineId`). */
  readonly on: string;
  /** The row's field it matches. Default `id`. */
  readonly from: string;
  readonly where?: Record<string, unknown>;
  readonly orderBy?: unknown;
  readonly select?: Record<string, unknown>;
  readonly include?: Record<string, unknown>;
  /** More `findMany` arguments (`{ cache: true }`); the spec's own where/orderBy/select/include win. */
  readonly args?: ExtraArgs;
  readonly __result?: T[];
}

export interface CountSpec extends Common {
  readonly kind: 'count';
  readonly delegate: GroupByDelegate;
  readonly on: string;
  readonly from: string;
  readonly where?: Record<string, unknown>;
}

export type RelatedSpec = OneSpec<any> | ManySpec<any>;
/** Keys to attach: relatedOne/relatedMany specs, and `_count: { key: relatedCount(…) }`. */
export type RelatedSpecs = Record<string, RelatedSpec | Record<string, CountSpec>>;

type Attached<S> = { [K in keyof S]: K extends '_count' ? { [C in keyof S[K]]: number } : S[K] extends OneSpec<infer T> ? T | null : S[K] extends ManySpec<infer T> ? T[] : never };

/** The row a delegate returns for these arguments, by Prisma's own result type (select/include aware). */
type RowOf<D, A> = Types.Public.Result<D, Pick<A, Extract<keyof A, 'select' | 'include'>>, 'findFirstOrThrow'>;

/**
 * A to-one relation: the row holds the key (`task.assignedToId` → `User.id`).
 *
 * @example relatedOne(getAuthClient().user, { by: 'assignedToId', select: { id: true, name: true } })
 */
export function relatedOne<D extends FindManyDelegate<any>, A extends { by: string; references?: string; select?: Record<string, unknown>; include?: Record<string, unknown>; cache?: RelatedCache; cacheKey?: string; chunkSize?: number; args?: ExtraArgs }>(delegate: D, opts: A): OneSpec<RowOf<D, A>> {
  return { kind: 'one', delegate, references: 'id', ...opts };
}

/**
 * A to-many relation: the related rows hold the key (`Task.machineId` → `machine.id`).
 *
 * @example relatedMany(getTasksClient().task, { on: 'machineId', where: { status: { not: 'COMPLETED' } }, args: { cache: true } })
 */
export function relatedMany<D extends FindManyDelegate<any>, A extends { on: string; from?: string; where?: Record<string, unknown>; orderBy?: unknown; select?: Record<string, unknown>; include?: Record<string, unknown>; chunkSize?: number; args?: ExtraArgs }>(delegate: D, opts: A): ManySpec<RowOf<D, A>> {
  return { kind: 'many', delegate, from: 'id', ...opts };
}

/**
 * A `_count` of a to-many relation, by one `groupBy` per chunk.
 *
 * @example attachRelated(machines, { _count: { tasks: relatedCount(getTasksClient().task, { on: 'machineId' }) } })
 */
export function relatedCount(delegate: GroupByDelegate, opts: { on: string; from?: string; where?: Record<string, unknown>; chunkSize?: number }): CountSpec {
  return { kind: 'count', delegate, from: 'id', ...opts };
}

const DEFAULT_CHUNK = 1000;

/** Distinct non-null values of `field` over `rows`, as map keys (strings, numbers, bigints kept apart by type). */
function distinct(rows: readonly Record<string, unknown>[], field: string): unknown[] {
  const seen = new Map<string, unknown>();
  for (const r of rows) {
    const v = r[field];
    if (v !== null && v !== undefined) seen.set(keyOf(v), v);
  }
  return [...seen.values()];
}

const keyOf = (v: unknown): string => `${typeof v}:${String(v)}`;

function chunks<T>(items: readonly T[], size: number): T[][] {
  if (!Number.isInteger(size) || size < 1) throw new RangeError(`chunkSize must be a positive integer, got ${size}`);
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

/** Adds `field: true` to a select that lacks it (needed to match rows up); says whether it did. */
function withField(select: Record<string, unknown> | undefined, field: string): { select: Record<string, unknown> | undefined; added: boolean } {
  if (!select || select[field]) return { select, added: false };
  return { select: { ...select, [field]: true }, added: true };
}

async function loadOne(rows: Record<string, unknown>[], key: string, spec: OneSpec<any>): Promise<void> {
  const ids = distinct(rows, spec.by);
  const found = new Map<string, unknown>();
  const prefix = `${spec.cacheKey ?? spec.by}:`;
  const missing = spec.cache ? ids.filter((id) => {
    const hit = spec.cache!.get(prefix + keyOf(id));
    if (hit !== undefined) found.set(keyOf(id), hit);
    return hit === undefined;
  }) : ids;
  const { select, added } = withField(spec.select, spec.references);
  for (const chunk of chunks(missing, spec.chunkSize ?? DEFAULT_CHUNK)) {
    const related = await spec.delegate.findMany({ ...spec.args, where: { [spec.references]: { in: chunk } }, ...(select ? { select } : {}), ...(spec.include ? { include: spec.include } : {}) });
    for (const r of related as Record<string, unknown>[]) {
      const id = r[spec.references];
      if (added) delete r[spec.references];
      found.set(keyOf(id), r);
      spec.cache?.set(prefix + keyOf(id), r);
    }
  }
  for (const row of rows) {
    const v = row[spec.by];
    row[key] = v === null || v === undefined ? null : (found.get(keyOf(v)) ?? null);
  }
}

async function loadMany(rows: Record<string, unknown>[], key: string, spec: ManySpec<any>): Promise<void> {
  const ids = distinct(rows, spec.from);
  const groups = new Map<string, unknown[]>();
  const { select, added } = withField(spec.select, spec.on);
  for (const chunk of chunks(ids, spec.chunkSize ?? DEFAULT_CHUNK)) {
    const filter = { [spec.on]: { in: chunk } };
    const related = await spec.delegate.findMany({
      ...spec.args,
      where: spec.where ? { AND: [spec.where, filter] } : filter,
      ...(spec.orderBy !== undefined ? { orderBy: spec.orderBy } : {}),
      ...(select ? { select } : {}),
      ...(spec.include ? { include: spec.include } : {}),
    });
    for (const r of related as Record<string, unknown>[]) {
      const k = keyOf(r[spec.on]);
      if (added) delete r[spec.on];
      (groups.get(k) ?? groups.set(k, []).get(k)!).push(r);
    }
  }
  // Chunks are ordered within themselves only; rows of one parent all fall in one chunk, so each
  // parent's list keeps the query's order.
  for (const row of rows) row[key] = groups.get(keyOf(row[spec.from])) ?? [];
}

async function loadCount(rows: Record<string, unknown>[], key: string, spec: CountSpec): Promise<void> {
  const ids = distinct(rows, spec.from);
  const counts = new Map<string, number>();
  for (const chunk of chunks(ids, spec.chunkSize ?? DEFAULT_CHUNK)) {
    const filter = { [spec.on]: { in: chunk } };
    const groups = await spec.delegate.groupBy({ by: [spec.on], where: spec.where ? { AND: [spec.where, filter] } : filter, _count: { _all: true } });
    for (const g of groups as Record<string, unknown>[]) counts.set(keyOf(g[spec.on]), Number((g._count as { _all: number })._all));
  }
  for (const row of rows) {
    const target = (row._count && typeof row._count === 'object' ? row._count : (row._count = {})) as Record<string, number>;
    target[key] = counts.get(keyOf(row[spec.from])) ?? 0;
  }
}

/**
 * Gives each row its new keys, in the order of `specs`, before the parallel loads fill them: the
 * key order (what `JSON.stringify` and an HTTP response show) is then that of the specs, as with an
 * include, not that of whichever query returned first. Keys a row already has keep their place.
 */
function reserveKeys(rows: Record<string, unknown>[], specs: RelatedSpecs): void {
  for (const row of rows) {
    for (const [key, spec] of Object.entries(specs)) {
      if (key !== '_count') {
        if (!(key in row)) row[key] = (spec as RelatedSpec).kind === 'many' ? [] : null;
        continue;
      }
      const counts = (row._count && typeof row._count === 'object' ? row._count : (row._count = {})) as Record<string, number>;
      for (const countKey of Object.keys(spec)) if (!(countKey in counts)) counts[countKey] = 0;
    }
  }
}

/**
 * Attaches related rows from other services to `rows`, in place, under the keys of `specs`; one
 * batched query per relation (IDs deduplicated, `chunkSize` per query), relations loaded in
 * parallel. Returns the same array, typed with the new keys.
 *
 * @example
 *   const tasks = await getTasksClient().task.findMany({ where: { status: 'ASSIGNED' } });
 *   await attachRelated(tasks, {
 *     assignedTo: relatedOne(getAuthClient().user, { by: 'assignedToId', select: { id: true, name: true } }),
 *     machine: relatedOne(getMachinesClient().machine, { by: 'machineId' }),
 *   });
 *   tasks[0].assignedTo?.name;
 */
export async function attachRelated<R extends object, S extends RelatedSpecs>(rows: R[], specs: S): Promise<Array<R & Attached<S>>> {
  const list = rows as unknown as Record<string, unknown>[];
  reserveKeys(list, specs);
  const jobs: Promise<void>[] = [];
  for (const [key, spec] of Object.entries(specs)) {
    if (key === '_count') {
      for (const [countKey, c] of Object.entries(spec as Record<string, CountSpec>)) jobs.push(loadCount(list, countKey, c));
    } else if ((spec as RelatedSpec).kind === 'one') jobs.push(loadOne(list, key, spec as OneSpec<unknown>));
    else if ((spec as RelatedSpec).kind === 'many') jobs.push(loadMany(list, key, spec as ManySpec<unknown>));
    else throw new TypeError(`attachRelated: '${key}' is not a relatedOne/relatedMany spec`);
  }
  await Promise.all(jobs);
  return rows as Array<R & Attached<S>>;
}
