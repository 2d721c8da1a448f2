import type { ServiceName } from '../services.ts';
import { createAuthClient } from './auth.client.ts';
import { createInventoryClient } from './inventory.client.ts';
import { createMachinesClient } from './machines.client.ts';
import { createSharedClient } from './shared.client.ts';
import { createTasksClient } from './tasks.client.ts';
import type { ServiceClientOptions } from './service-connection.ts';

const FACTORIES = {
  auth: createAuthClient,
  machines: createMachinesClient,
  inventory: createInventoryClient,
  tasks: createTasksClient,
  shared: createSharedClient,
} as const;

export type ClientFor<S extends ServiceName> = ReturnType<(typeof FACTORIES)[S]>;

/** Creates a service's client by name, for tools that iterate over services. */
export function createClient<S extends ServiceName>(service: S, options: ServiceClientOptions = {}): ClientFor<S> {
  return FACTORIES[service](options) as ClientFor<S>;
}
