import type { Prisma } from '@prisma/client/extension';
import type { ReadCacheOption, WriteCacheOption } from './cache-options.ts';

type R = { cache?: ReadCacheOption };
type W = { cache?: WriteCacheOption };
type Read<T, A, F extends ReadOp> = Prisma.PrismaPromise<Prisma.Result<T, A, F>>;
type ReadOp = 'findUnique' | 'findUniqueOrThrow' | 'findFirst' | 'findFirstOrThrow' | 'findMany' | 'count';

/**
 * The types of the model methods as they are, plus the `cache` argument. At run time the read
 * methods are those of cached-read-methods.ts; the writes stay Prisma's own, the query component
 * reading and stripping `cache`.
 */
export type CachedModelMethods = {
  findUnique<T, A>(this: T, args: Prisma.Exact<A, Prisma.Args<T, 'findUnique'> & R>): Read<T, A, 'findUnique'>;
  findUniqueOrThrow<T, A>(this: T, args: Prisma.Exact<A, Prisma.Args<T, 'findUniqueOrThrow'> & R>): Read<T, A, 'findUniqueOrThrow'>;
  findFirst<T, A>(this: T, args?: Prisma.Exact<A, Prisma.Args<T, 'findFirst'> & R>): Read<T, A, 'findFirst'>;
  findFirstOrThrow<T, A>(this: T, args?: Prisma.Exact<A, Prisma.Args<T, 'findFirstOrThrow'> & R>): Read<T, A, 'findFirstOrThrow'>;
  findMany<T, A>(this: T, args?: Prisma.Exact<A, Prisma.Args<T, 'findMany'> & R>): Read<T, A, 'findMany'>;
  count<T, A>(this: T, args?: Prisma.Exact<A, Prisma.Args<T, 'count'> & R>): Read<T, A, 'count'>;
  create<T, A>(this: T, args: Prisma.Exact<A, Prisma.Args<T, 'create'> & W>): Prisma.PrismaPromise<Prisma.Result<T, A, 'create'>>;
  createMany<T, A>(this: T, args: Prisma.Exact<A, Prisma.Args<T, 'createMany'> & W>): Prisma.PrismaPromise<Prisma.Result<T, A, 'createMany'>>;
  createManyAndReturn<T, A>(this: T, args: Prisma.Exact<A, Prisma.Args<T, 'createManyAndReturn'> & W>): Prisma.PrismaPromise<Prisma.Result<T, A, 'createManyAndReturn'>>;
  update<T, A>(this: T, args: Prisma.Exact<A, Prisma.Args<T, 'update'> & W>): Prisma.PrismaPromise<Prisma.Result<T, A, 'update'>>;
  updateMany<T, A>(this: T, args: Prisma.Exact<A, Prisma.Args<T, 'updateMany'> & W>): Prisma.PrismaPromise<Prisma.Result<T, A, 'updateMany'>>;
  upsert<T, A>(this: T, args: Prisma.Exact<A, Prisma.Args<T, 'upsert'> & W>): Prisma.PrismaPromise<Prisma.Result<T, A, 'upsert'>>;
  delete<T, A>(this: T, args: Prisma.Exact<A, Prisma.Args<T, 'delete'> & W>): Prisma.PrismaPromise<Prisma.Result<T, A, 'delete'>>;
  deleteMany<T, A>(this: T, args?: Prisma.Exact<A, Prisma.Args<T, 'deleteMany'> & W>): Prisma.PrismaPromise<Prisma.Result<T, A, 'deleteMany'>>;
};
