import { PrismaClient } from '../generated/machines/client.ts';
import { lifecycleExtension, openServiceConnection, type ServiceClientOptions } from './service-connection.ts';

export * as MachinesDb from '../generated/machines/client.ts';

/**
 * The machines service's Prisma client, configured from `MACHINES_DATABASE_URL` (or `DATABASE_URL`).
 *
 * @example
 *   const db = createMachinesClient();
 *   await db.health();
 *   await db.close();
 */
export function createMachinesClient(options: ServiceClientOptions = {}) {
  const conn = openServiceConnection('machines', options);
  return new PrismaClient(conn.prismaOptions).$extends(lifecycleExtension(conn)).$extends(conn.cacheExtension);
}

export type MachinesClient = ReturnType<typeof createMachinesClient>;

let shared: MachinesClient | undefined;

/** A process-wide machines client, created on first use. */
export function getMachinesClient(): MachinesClient {
  shared ??= createMachinesClient();
  return shared;
}
