// Every service's client, exported and registered by name. Written by `vendhub-db service add`.
import { createAuthClient } from './auth.client.ts';
import { createMachinesClient } from './machines.client.ts';
import { createInventoryClient } from './inventory.client.ts';
import { createTasksClient } from './tasks.client.ts';
import { createSharedClient } from './shared.client.ts';

export { createAuthClient, getAuthClient, AuthDb, type AuthClient } from './auth.client.ts';
export { createMachinesClient, getMachinesClient, MachinesDb, type MachinesClient } from './machines.client.ts';
export { createInventoryClient, getInventoryClient, InventoryDb, type InventoryClient } from './inventory.client.ts';
export { createTasksClient, getTasksClient, TasksDb, type TasksClient } from './tasks.client.ts';
export { createSharedClient, getSharedClient, SharedDb, type SharedClient } from './shared.client.ts';

export const CLIENT_FACTORIES = {
  auth: createAuthClient,
  machines: createMachinesClient,
  inventory: createInventoryClient,
  tasks: createTasksClient,
  shared: createSharedClient,
} as const;
