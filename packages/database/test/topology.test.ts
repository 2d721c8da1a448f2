import { afterAll, describe, expect, it } from 'vitest';
import { createAuthClient } from '../src/clients/auth.client.ts';
import { createInventoryClient } from '../src/clients/inventory.client.ts';
import { createMachinesClient } from '../src/clients/machines.client.ts';
import { createSharedClient } from '../src/clients/shared.client.ts';
import { createTasksClient } from '../src/clients/tasks.client.ts';
import type { Env } from '../src/config/database-config.ts';
import { migrateAll, mixedTopology, perServiceTopology, sharedTopology, type Topology } from './helpers/topology.ts';

/** Creates and reads back a row of every model through the generated clients. */
async function exerciseEveryModel(env: Env) {
  const auth = createAuthClient({ env });
  const machines = createMachinesClient({ env });
  const inventory = createInventoryClient({ env });
  const tasks = createTasksClient({ env });
  const shared = createSharedClient({ env });
  try {
    const user = await auth.user.create({ data: { email: 'олег@vendhub.ru', name: 'Олег 🚚', passwordHash: 'x', roles: ['OPERATOR', 'DRIVER'] } });
    await auth.auditLog.create({ data: { userId: user.id, action: 'login', entity: 'User', entityId: user.id, changes: { ip: [1, 2] } } });
    const loc = await machines.location.create({ data: { name: 'ТЦ Европейский', address: 'Москва, пл. Киевского Вокзала, 2', latitude: 55.74, longitude: 37.56 } });
    const m = await machines.machine.create({ data: { code: 'VM-001', serialNumber: 'SN-1', type: 'snack', name: 'Снеки 1', locationId: loc.id, metadata: { slots: 40 } } });
    await machines.machineTelemetry.create({ data: { machineId: m.id, temperature: 4.5, errors: ['E1', 'door,open'], rawData: { v: 1 } } });
    await machines.serviceHistory.create({ data: { machineId: m.id, serviceType: 'cleaning', description: 'ok', performedById: user.id, photos: [] } });
    const item = await inventory.inventoryItem.create({ data: { name: 'Кофе', sku: 'SKU-1', unit: 'KG', category: 'drinks' } });
    await inventory.stockMovement.create({ data: { itemId: item.id, userId: user.id, type: 'IN', quantity: 5, quantityBefore: 0, quantityAfter: 5, reason: 'поставка', machineId: m.id } });
    await inventory.machineInventory.create({ data: { machineId: m.id, itemId: item.id, quantity: 3 } });
    const task = await tasks.task.create({ data: { title: 'Заправить', machineId: m.id, createdById: user.id, assignedToId: user.id, priority: 'HIGH' } });
    await tasks.taskAction.create({ data: { taskId: task.id, userId: user.id, action: 'start', comment: 'в пути', photoUrls: ['a.jpg'] } });
    await shared.transaction.create({ data: { machineId: m.id, amount: 120.5, paymentType: 'card', status: 'ok', reference: 'R-1' } });

    const counts = {
      User: await auth.user.count(), AuditLog: await auth.auditLog.count(),
      Location: await machines.location.count(), Machine: await machines.machine.count(),
      MachineTelemetry: await machines.machineTelemetry.count(), ServiceHistory: await machines.serviceHistory.count(),
      InventoryItem: await inventory.inventoryItem.count(), StockMovement: await inventory.stockMovement.count(),
      MachineInventory: await inventory.machineInventory.count(), Task: await tasks.task.count(),
      TaskAction: await tasks.taskAction.count(), Transaction: await shared.transaction.count(),
    };
    const withRelations = await machines.machine.findUniqueOrThrow({ where: { code: 'VM-001' }, include: { location: true, telemetry: true } });
    const taskBack = await tasks.task.findFirstOrThrow({ include: { actions: true } });
    const userBack = await auth.user.findUniqueOrThrow({ where: { email: 'олег@vendhub.ru' }, include: { auditLogs: true } });
    const health = await Promise.all([auth, machines, inventory, tasks, shared].map((c) => c.health()));
    return { counts, withRelations, taskBack, userBack, health };
  } finally {
    await Promise.all([auth, machines, inventory, tasks, shared].map((c) => c.close()));
  }
}

describe.each([
  ['option 1: one database, a schema per service', sharedTopology, 1],
  ['option 2: a database per service', perServiceTopology, 5],
  ['a mix of the two', mixedTopology, 3],
] as const)('%s', (_label, make, databases) => {
  let topo: Topology;
  afterAll(async () => {
    await topo?.drop();
  });

  it('migrates from nothing, and a second migrate is a no-op', async () => {
    topo = await make('topo');
    expect(topo.databases).toHaveLength(databases);
    const first = await migrateAll(topo.env);
    expect(first.map((r) => r.applied.length)).toEqual([1, 1, 1, 1, 1]);
    const second = await migrateAll(topo.env);
    expect(second.every((r) => r.applied.length === 0)).toBe(true);
    expect(first.map((r) => r.schema)).toEqual(['auth_service', 'machines_service', 'inventory_service', 'tasks_service', 'shared']);
    expect(new Set(first.map((r) => r.database)).size).toBe(databases);
  });

  it('the generated clients create and read rows of every model', async () => {
    const r = await exerciseEveryModel(topo.env);
    expect(Object.values(r.counts)).toEqual(Array(12).fill(1));
    expect(r.withRelations.location?.name).toBe('ТЦ Европейский');
    expect(r.withRelations.telemetry[0]?.errors).toEqual(['E1', 'door,open']);
    expect(r.taskBack.actions[0]?.comment).toBe('в пути');
    expect(r.userBack.roles).toEqual(['OPERATOR', 'DRIVER']);
    expect(r.userBack.auditLogs[0]?.changes).toEqual({ ip: [1, 2] });
    for (const h of r.health) {
      expect(h.reachable).toBe(true);
      expect(h.migrations?.current).toBe(true);
      expect(h.pool.max).toBe(10);
    }
  });
});

describe('schema placement', () => {
  it('puts tables and _prisma_migrations in each service schema, nothing in public', async () => {
    const topo = await sharedTopology('place');
    try {
      await migrateAll(topo.env);
      const c = await import('pg');
      const client = new c.default.Client({ connectionString: topo.databases[0]?.url });
      await client.connect();
      const { rows } = await client.query<{ s: string; t: string }>(
        `SELECT table_schema AS s, table_name AS t FROM information_schema.tables WHERE table_schema NOT IN ('pg_catalog','information_schema') ORDER BY 1, 2`,
      );
      await client.end();
      const bySchema = new Map<string, string[]>();
      for (const r of rows) bySchema.set(r.s, [...(bySchema.get(r.s) ?? []), r.t]);
      expect(bySchema.get('auth_service')).toEqual(['_prisma_migrations', 'audit_logs', 'users']);
      expect(bySchema.get('machines_service')).toEqual(['_prisma_migrations', 'locations', 'machine_telemetry', 'machines', 'service_history']);
      expect(bySchema.get('inventory_service')).toEqual(['_prisma_migrations', 'inventory_items', 'machine_inventory', 'stock_movements']);
      expect(bySchema.get('tasks_service')).toEqual(['_prisma_migrations', 'task_actions', 'tasks']);
      expect(bySchema.get('shared')).toEqual(['_prisma_migrations', 'transactions']);
      expect(bySchema.has('public')).toBe(false);
    } finally {
      await topo.drop();
    }
  });
});
