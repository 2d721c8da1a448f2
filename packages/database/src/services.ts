import { SERVICE_REGISTRY } from './service-registry.ts';

/**
 * The services and where each one's data lives, derived from src/service-registry.ts (written by
 * `vendhub-db service add`). Clients, migrations, roles and the split iterate over these.
 */
export type ServiceName = keyof typeof SERVICE_REGISTRY;
export const SERVICES: readonly ServiceName[] = Object.freeze(Object.keys(SERVICE_REGISTRY) as ServiceName[]);

export interface ServiceInfo {
  readonly name: ServiceName;
  /** PostgreSQL schema the service owns, in whatever database it is placed. */
  readonly schema: string;
  /** Environment variable holding the service's own connection URL. */
  readonly urlVar: string;
  /** Optional direct (non-PgBouncer) URL used for migrations and roles. */
  readonly directUrlVar: string;
  /** Login role provisioned for the service by `vendhub-db roles`. */
  readonly role: string;
}

const info = (name: ServiceName, schema: string): ServiceInfo =>
  Object.freeze({
    name,
    schema,
    urlVar: `${name.toUpperCase()}_DATABASE_URL`,
    directUrlVar: `${name.toUpperCase()}_DIRECT_URL`,
    role: `vendhub_${name}`,
  });

export const SERVICE_INFO: Readonly<Record<ServiceName, ServiceInfo>> = Object.freeze(
  Object.fromEntries(SERVICES.map((s) => [s, info(s, SERVICE_REGISTRY[s].schema)])) as Record<ServiceName, ServiceInfo>,
);

export function isServiceName(value: string): value is ServiceName {
  return (SERVICES as readonly string[]).includes(value);
}
