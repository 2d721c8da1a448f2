import type { ServiceName } from '../services.ts';
import { CLIENT_FACTORIES } from './service-clients.ts';
import type { ServiceClientOptions } from './service-connection.ts';

export type ClientFor<S extends ServiceName> = ReturnType<(typeof CLIENT_FACTORIES)[S]>;

/** Creates a service's client by name, for tools that iterate over services. */
export function createClient<S extends ServiceName>(service: S, options: ServiceClientOptions = {}): ClientFor<S> {
  return CLIENT_FACTORIES[service](options) as ClientFor<S>;
}
