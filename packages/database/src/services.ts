/**
 * The five services and where each one's data lives. Everything else (clients, migrations, roles,
 * the split) is driven from this table, so adding a service is one entry here plus its schema file.
 */
export const SERVICES = ['auth', 'machines', 'inventory', 'tasks', 'shared'] as const;
export type ServiceName = (typeof SERVICES)[number];

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

export const SERVICE_INFO: Readonly<Record<ServiceName, ServiceInfo>> = Object.freeze({
  auth: info('auth', 'auth_service'),
  machines: info('machines', 'machines_service'),
  inventory: info('inventory', 'inventory_service'),
  tasks: info('tasks', 'tasks_service'),
  shared: info('shared', 'shared'),
});

export function isServiceName(value: string): value is ServiceName {
  return (SERVICES as readonly string[]).includes(value);
}
