import { PrismaClient } from '../generated/auth/client.ts';
import { lifecycleExtension, openServiceConnection, type ServiceClientOptions } from './service-connection.ts';

export * as AuthDb from '../generated/auth/client.ts';

/**
 * The auth service's Prisma client, configured from `AUTH_DATABASE_URL` (or `DATABASE_URL`).
 *
 * @example
 *   const db = createAuthClient();
 *   await db.health();
 *   await db.close();
 */
export function createAuthClient(options: ServiceClientOptions = {}) {
  const conn = openServiceConnection('auth', options);
  return new PrismaClient(conn.prismaOptions).$extends(lifecycleExtension(conn)).$extends(conn.cacheExtension);
}

export type AuthClient = ReturnType<typeof createAuthClient>;

let shared: AuthClient | undefined;

/** A process-wide auth client, created on first use. */
export function getAuthClient(): AuthClient {
  shared ??= createAuthClient();
  return shared;
}
