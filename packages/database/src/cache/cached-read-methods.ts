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
        const refuse = () => Promise.reject(e);
        return lazyPrismaPromise(refuse, refuse);
      }
      // Inside an interactive transaction (a `tx` client) a read must see the transaction's own writes.
      const spec = o === undefined || !ctx.cache.enabled || transactionIdOfClient($parent) !== undefined ? undefined : ctx.readSpec(model, operation, rest, o);
      if (spec === undefined) return below[operation]!(rest);
      // A PrismaPromise is a thenable that starts its query when awaited.
      const load = () => below[operation]!(rest) as Promise<unknown>;
      return lazyPrismaPromise(() => (ctx.isClosed?.() ? load() : ctx.cache.read(spec, load)), load);
    };
  }
  return methods;
}

/**
 * A PrismaPromise that runs `run` when awaited (Prisma's are lazy too). In a batch
 * `$transaction([...])` Prisma calls `requestTransaction` instead: that read goes to the database,
 * as reads inside transactions never use the cache.
 */
function lazyPrismaPromise(run: () => Promise<unknown>, uncached: () => PrismaPromiseLike) {
  let started: Promise<unknown> | undefined;
  const start = () => (started ??= run());
  return {
    then: (ok?: (v: unknown) => unknown, fail?: (e: unknown) => unknown) => start().then(ok, fail),
    catch: (fail?: (e: unknown) => unknown) => start().catch(fail),
    finally: (f?: () => void) => start().finally(f),
    requestTransaction(transaction: unknown) {
      const inner = uncached();
      return inner.requestTransaction ? inner.requestTransaction(transaction) : inner;
    },
    [Symbol.toStringTag]: 'PrismaPromise',
  };
}

const delegateNames = new Map<string, string>();
function delegateName(model: string): string {
  let name = delegateNames.get(model);
  if (name === undefined) delegateNames.set(model, (name = model.charAt(0).toLowerCase() + model.slice(1)));
  return name;
}
