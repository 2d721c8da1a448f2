import { Prisma } from '@prisma/client/extension';
import { readOption, type ReadCacheOption } from './cache-options.ts';
import { transactionIdOfClient } from './prisma-internals.ts';
import type { QueryCache, ReadSpec } from './query-cache.ts';

/** What the methods need from the extension: the cache, how a read becomes a spec, the closed hook. */
export interface CachedReadContext {
  readonly cache: QueryCache;
  readonly readSpec: (model: string, operation: string, args: Record<string, unknown>, o: Exclude<ReadCacheOption, boolean>) => ReadSpec | undefined;
  readonly isClosed: (() => boolean) | undefined;
}

interface PrismaPromiseLike extends PromiseLike<unknown> {
  requestTransaction?(transaction: unknown): PromiseLike<unknown>;
}
type Delegate = Record<string, (args?: unknown) => PrismaPromiseLike>;
type ModelContext = { readonly $name: string; readonly $parent: Record<string, Delegate> };

const READ_OPERATIONS = ['findUnique', 'findUniqueOrThrow', 'findFirst', 'findFirstOrThrow', 'findMany', 'count'] as const;

/**
 * The read methods of every model, as a model component, so a cache hit never enters Prisma's
 * query pipeline (which costs about as much as the Redis round trip itself). A read without `cache`
 * is handed untouched to the same method of the client below this extension (`$parent`): same
 * PrismaPromise, fluent API included. A read with `cache` answers from Redis when it can; a miss, a
 * read inside a transaction and a read of a closed client go to `$parent` too, i.e. through the
 * pipeline (the lifecycle extension's closed check and error translation).
 *
 * Extensions applied after the cache do not see reads through their query component: apply the cache last.
 */
export function cachedReadMethods(ctx: CachedReadContext): Record<string, (this: unknown, args?: Record<string, unknown>) => unknown> {
  const methods: Record<string, (this: unknown, args?: Record<string, unknown>) => unknown> = {};
  for (const operation of READ_OPERATIONS) {
    methods[operation] = function (this: unknown, args?: Record<string, unknown>) {
      const { $name: model, $parent } = Prisma.getExtensionContext(this) as unknown as ModelContext;
      const below = $parent[delegateName(model)]!;
      if (args === undefined || args.cache === undefined) return below[operation]!(args);
      const { cache: opt, ...rest } = args;
      let o: Exclude<ReadCacheOption, boolean> | undefined;
      try {
        // Checked whether or not Redis is configured, so a mistake shows up in development too.
        o = readOption(opt, `${model}.${operation}`);
      } catch (e) {
        // Rejected when awaited, as a query's errors are, not thrown at the call.
        return new CachedRead(ctx, below, operation, rest, undefined, e);
      }
      // Inside an interactive transaction (a `tx` client) a read must see the transaction's own writes.
      const spec = o === undefined || !ctx.cache.enabled || transactionIdOfClient($parent) !== undefined ? undefined : ctx.readSpec(model, operation, rest, o);
      if (spec === undefined) return below[operation]!(rest);
      return new CachedRead(ctx, below, operation, rest, spec, undefined);
    };
  }
  return methods;
}

/**
 * A PrismaPromise for a cached read: runs when awaited (Prisma's are lazy too). In a batch
 * `$transaction([...])` Prisma calls `requestTransaction` instead: that read goes to the database,
 * as reads inside transactions never use the cache. A class rather than closures: a cache hit
 * allocates one object and creates no functions.
 */
class CachedRead implements PromiseLike<unknown> {
  readonly #ctx: CachedReadContext;
  readonly #below: Delegate;
  readonly #operation: string;
  readonly #args: Record<string, unknown>;
  readonly #spec: ReadSpec | undefined;
  readonly #error: unknown;
  #started: Promise<unknown> | undefined;

  constructor(ctx: CachedReadContext, below: Delegate, operation: string, args: Record<string, unknown>, spec: ReadSpec | undefined, error: unknown) {
    this.#ctx = ctx;
    this.#below = below;
    this.#operation = operation;
    this.#args = args;
    this.#spec = spec;
    this.#error = error;
  }

  get [Symbol.toStringTag]() {
    return 'PrismaPromise';
  }

  then<A = unknown, B = never>(ok?: ((v: unknown) => A | PromiseLike<A>) | null, fail?: ((e: unknown) => B | PromiseLike<B>) | null): Promise<A | B> {
    return this.#start().then(ok, fail);
  }

  catch<B = never>(fail?: ((e: unknown) => B | PromiseLike<B>) | null): Promise<unknown> {
    return this.#start().catch(fail);
  }

  finally(f?: (() => void) | null): Promise<unknown> {
    return this.#start().finally(f);
  }

  requestTransaction(transaction: unknown): PromiseLike<unknown> {
    if (this.#error !== undefined) return Promise.reject(this.#error);
    const inner = this.#below[this.#operation]!(this.#args);
    return inner.requestTransaction ? inner.requestTransaction(transaction) : inner;
  }

  #start(): Promise<unknown> {
    if (this.#started) return this.#started;
    if (this.#error !== undefined) return (this.#started = Promise.reject(this.#error));
    const load = this.#load.bind(this);
    return (this.#started = this.#ctx.isClosed?.() || this.#spec === undefined ? load() : this.#ctx.cache.read(this.#spec, load));
  }

  #load(): Promise<unknown> {
    return this.#below[this.#operation]!(this.#args) as Promise<unknown>;
  }
}

const delegateNames = new Map<string, string>();
function delegateName(model: string): string {
  let name = delegateNames.get(model);
  if (name === undefined) delegateNames.set(model, (name = model.charAt(0).toLowerCase() + model.slice(1)));
  return name;
}
