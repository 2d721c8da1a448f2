// The services, as data: one entry per prisma/<name>/schema.prisma, with the PostgreSQL schema it
// owns. Written by `vendhub-db service add <name>`; everything else (SERVICES, SERVICE_INFO, env
// variables, roles, clients, migrations, the split) is derived from it.
export const SERVICE_REGISTRY = {
  auth: { schema: 'auth_service' },
  machines: { schema: 'machines_service' },
  inventory: { schema: 'inventory_service' },
  tasks: { schema: 'tasks_service' },
  shared: { schema: 'shared' },
} as const;
