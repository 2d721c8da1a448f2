import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import { createAuthClient } from '../src/clients/auth.client.ts';
import { createInventoryClient } from '../src/clients/inventory.client.ts';
import { createMachinesClient } from '../src/clients/machines.client.ts';
import { createTasksClient } from '../src/clients/tasks.client.ts';
import { createTestDatabase, urlFor, type TestDatabase } from './helpers/pg.ts';
import { startPgBouncer, type Bouncer } from './helpers/pgbouncer.ts';
import { migrateAll } from './helpers/topology.ts';

describe('pooling under load', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase('poolload');
    await migrateAll({ DATABASE_URL: db.url });
  });
  afterAll(async () => {
    await db.drop();
  });

  it('4 services with connection_limit=10, 1,000 concurrent operations: no errors, never over 40 connections', async () => {
    const env = { DATABASE_URL: `${db.url}?connection_limit=10&pool_timeout=30&application_name=vh_load` };
    const clients = [createAuthClient({ env }), createMachinesClient({ env }), createInventoryClient({ env }), createTasksClient({ env })] as const;
    const watcher = new pg.Client({ connectionString: db.url });
    await watcher.connect();
    let peak = 0;
    let watching = true;
    const watch = (async () => {
      while (watching) {
        const r = await watcher.query<{ n: number }>(`SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = $1 AND application_name = 'vh_load'`, [db.name]);
        peak = Math.max(peak, r.rows[0]?.n ?? 0);
        await new Promise((res) => setTimeout(res, 5));
      }
    })();
    try {
      const [auth, machines, inventory, tasks] = clients;
      const ops = Array.from({ length: 1000 }, (_, i) => {
        switch (i % 4) {
          case 0: return auth.user.create({ data: { email: `u${i}@x`, name: `u${i}`, passwordHash: 'h', roles: ['OPERATOR'] } });
          case 1: return machines.location.count();
          case 2: return inventory.inventoryItem.create({ data: { name: `i${i}`, sku: `s${i}`, unit: 'PCS', category: 'c' } });
          default: return tasks.$transaction(async (tx) => {
            const t = await tx.task.create({ data: { title: `t${i}`, createdById: 'u' } });
            return tx.taskAction.create({ data: { taskId: t.id, userId: 'u', action: 'a', comment: '' } });
          });
        }
      });
      const results = await Promise.allSettled(ops);
      const failed = results.filter((r) => r.status === 'rejected');
      expect(failed.map((f) => String((f as PromiseRejectedResult).reason)).slice(0, 3)).toEqual([]);
      expect(await auth.user.count()).toBe(250);
      expect(await tasks.taskAction.count()).toBe(250);
    } finally {
      watching = false;
      await watch;
      await watcher.end();
      await Promise.all(clients.map((c) => c.close()));
    }
    expect(peak).toBeGreaterThan(4);
    expect(peak).toBeLessThanOrEqual(40);
  });
});

describe('through PgBouncer in transaction mode', () => {
  let db: TestDatabase;
  let bouncer: Bouncer;
  beforeAll(async () => {
    db = await createTestDatabase('bouncer');
    await migrateAll({ DATABASE_URL: db.url });
    bouncer = await startPgBouncer(5);
  });
  afterAll(async () => {
    bouncer?.stop();
    await db.drop();
  });

  it('clients work with pgbouncer=true: reads, writes, interactive transactions, concurrency', async () => {
    const url = new URL(urlFor(db.name));
    url.port = String(bouncer.port);
    url.search = '?pgbouncer=true&connection_limit=20';
    const env = { DATABASE_URL: url.toString() };
    const tasks = createTasksClient({ env });
    const machines = createMachinesClient({ env });
    try {
      const loc = await machines.location.create({ data: { name: 'Склад', address: 'Казань' } });
      await machines.machine.create({ data: { code: 'B-1', serialNumber: 'SB-1', type: 'coffee', name: 'B', locationId: loc.id } });
      const found = await machines.machine.findUniqueOrThrow({ where: { code: 'B-1' }, include: { location: true } });
      expect(found.location?.name).toBe('Склад');
      const created = await Promise.all(Array.from({ length: 200 }, (_, i) => tasks.$transaction(async (tx) => {
        const t = await tx.task.create({ data: { title: `bounced ${i}`, createdById: 'u1' } });
        await tx.taskAction.create({ data: { taskId: t.id, userId: 'u1', action: 'create', comment: '' } });
        return t.id;
      })));
      expect(new Set(created).size).toBe(200);
      expect(await tasks.taskAction.count()).toBe(200);
      const rolledBack = await tasks.$transaction(async (tx) => {
        await tx.task.create({ data: { title: 'never', createdById: 'u1' } });
        throw new Error('rollback');
      }).catch((e: Error) => e.message);
      expect(rolledBack).toBe('rollback');
      expect(await tasks.task.count({ where: { title: 'never' } })).toBe(0);
      const h = await tasks.health();
      expect(h.reachable).toBe(true);
      expect(h.migrations?.current).toBe(true);
    } finally {
      await tasks.close();
      await machines.close();
    }
  });
});
