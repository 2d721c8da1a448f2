import { PrismaClient } from '../generated/inventory/client.ts';
import { lifecycleExtension, openServiceConnection, type ServiceClientOptions } from './service-connection.ts';

export * as InventoryDb from '../generated/inventory/client.ts';

/**
 * The inventory service's Prisma client, configured from `INVENTORY_DATABASE_URL` (or `DATABASE_URL`).
 *
 * @example
 *   const db = createInventoryClient();
 *   await db.health();
 *   await db.close();
 */
export function createInventoryClient(options: ServiceClientOptions = {}) {
  const conn = openServiceConnection('inventory', options);
  return new PrismaClient(conn.prismaOptions).$extends(lifecycleExtension(conn)).$extends(conn.cacheExtension);
}

export type InventoryClient = ReturnType<typeof createInventoryClient>;

let shared: InventoryClient | undefined;

/** A process-wide inventory client, created on first use. */
export function getInventoryClient(): InventoryClient {
  shared ??= createInventoryClient();
  return shared;
}
