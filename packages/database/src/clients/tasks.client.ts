import { PrismaClient } from '../generated/tasks/client.ts';
import { lifecycleExtension, openServiceConnection, type ServiceClientOptions } from './service-connection.ts';

export * as TasksDb from '../generated/tasks/client.ts';

/**
 * The tasks service's Prisma client, configured from `TASKS_DATABASE_URL` (or `DATABASE_URL`).
 *
 * @example
 *   const db = createTasksClient();
 *   await db.health();
 *   await db.close();
 */
export function createTasksClient(options: ServiceClientOptions = {}) {
  const conn = openServiceConnection('tasks', options);
  return new PrismaClient(conn.prismaOptions).$extends(lifecycleExtension(conn)).$extends(conn.cacheExtension);
}

export type TasksClient = ReturnType<typeof createTasksClient>;

let shared: TasksClient | undefined;

/** A process-wide tasks client, created on first use. */
export function getTasksClient(): TasksClient {
  shared ??= createTasksClient();
  return shared;
}
