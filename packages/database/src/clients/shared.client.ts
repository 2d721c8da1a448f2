import { PrismaClient } from '../generated/shared/client.ts';
import { lifecycleExtension, openServiceConnection, type ServiceClientOptions } from './service-connection.ts';

export * as SharedDb from '../generated/shared/client.ts';

/**
 * The shared service's Prisma client, configured from `SHARED_DATABASE_URL` (or `DATABASE_URL`).
 *
 * @example
 *   const db = createSharedClient();
 *   await db.health();
 *   await db.close();
 */
export function createSharedClient(options: ServiceClientOptions = {}) {
  const conn = openServiceConnection('shared', options);
  return new PrismaClient(conn.prismaOptions).$extends(lifecycleExtension(conn)).$extends(conn.cacheExtension);
}

export type SharedClient = ReturnType<typeof createSharedClient>;

let shared: SharedClient | undefined;

/** A process-wide shared client, created on first use. */
export function getSharedClient(): SharedClient {
  shared ??= createSharedClient();
  return shared;
}
