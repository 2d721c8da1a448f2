import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createInventoryClient } from '../src/clients/inventory.client.ts';
import { createMachinesClient } from '../src/clients/machines.client.ts';
import { prometheusText } from '../src/index.ts';
import { createTestDatabase, type TestDatabase } from './helpers/pg.ts';
import { migrateAll } from './helpers/topology.ts';

const REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

describe('service clients come with the Redis cache', () => {
  let db: TestDatabase;
  const keyPrefix = `vh:test:${randomBytes(4).toString('hex')}:`;
  beforeAll(async () => {
    db = await createTestDatabase('clientcache');
    await migrateAll({ DATABASE_URL: db.url });
  });
  afterAll(async () => {
    await db.drop();
  });

  it('REDIS_URL set: opted-in reads hit, writes invalidate, tags from the per-model policy work', async () => {
    const env = { DATABASE_URL: db.url, REDIS_URL };
    const machines = createMachinesClient({ env, cache: { keyPrefix, timeoutMs: 1000 } });
    const inventory = createInventoryClient({ env, cache: { keyPrefix, timeoutMs: 1000 } });
    try {
      const m = await machines.machine.create({ data: { code: 'C-1', serialNumber: 'SC-1', type: 'snack', name: 'Автомат' } });
      const first = await machines.machine.findUnique({ where: { id: m.id }, cache: true });
      const second = await machines.machine.findUnique({ where: { id: m.id }, cache: true });
      expect(second).toEqual(first);
      expect(machines.$cache.stats().hits).toBe(1);
      await machines.machine.update({ where: { id: m.id }, data: { name: 'Переименован' } });
      expect((await machines.machine.findUnique({ where: { id: m.id }, cache: true }))?.name).toBe('Переименован');

      const item = await inventory.inventoryItem.create({ data: { name: 'Вода', sku: 'W-1', unit: 'PCS', category: 'drinks' } });
      await inventory.machineInventory.create({ data: { machineId: m.id, itemId: item.id, quantity: 5 } });
      const tag = `machine:${m.id}:inventory`;
      const list = () => inventory.machineInventory.findMany({ where: { machineId: m.id }, cache: { ttl: 60, tags: [tag] } });
      expect((await list())[0]?.quantity).toBe(5);
      await inventory.machineInventory.updateMany({ where: { machineId: m.id }, data: { quantity: 2 } });
      expect((await list())[0]?.quantity).toBe(2);

      const h = await inventory.health();
      expect(h.cache.status).toBe('ok');
      expect(inventory.$cache.stats().pool?.total).toBeGreaterThan(0);

      // The same numbers for a /metrics endpoint, one series per service.
      const text = prometheusText([machines.$cache.stats(), inventory.$cache.stats()]);
      expect(text).toContain('# TYPE vendhub_cache_hits_total counter');
      expect(text).toContain(`vendhub_cache_hits_total{service="machines"} ${machines.$cache.stats().hits}`);
      expect(text).toContain('vendhub_cache_circuit_state{service="inventory",state="closed"} 1');
      expect(text).toContain('vendhub_cache_circuit_state{service="inventory",state="open"} 0');
      expect(text).toMatch(/^vendhub_cache_pool_connections\{service="inventory",state="total"\} [1-9]\d*$/m);
      expect(text).toMatch(/^vendhub_cache_pool_waiting\{service="machines"\} 0$/m);
      // Every sample line is `name{labels} number`.
      for (const line of text.trim().split('\n').filter((l) => !l.startsWith('#'))) expect(line).toMatch(/^[a-z_]+\{[^}]*\} -?\d+(\.\d+)?$/);
    } finally {
      await machines.close();
      await inventory.close();
    }
  });

  it('$cache.health() right after the client is created waits for the connection instead of reporting down', async () => {
    const machines = createMachinesClient({ env: { DATABASE_URL: db.url, REDIS_URL }, cache: { keyPrefix } });
    try {
      expect(await machines.$cache.health()).toMatchObject({ enabled: true, status: 'ok', circuit: 'closed' });
      expect(machines.$cache.stats().redisErrors).toBe(0);
    } finally {
      await machines.close();
    }
  });

  it('REDIS_URL unset: the cache is off, says so, and queries still work', async () => {
    const machines = createMachinesClient({ env: { DATABASE_URL: db.url } });
    try {
      expect(await machines.location.count({ cache: true })).toBe(0);
      const h = await machines.health();
      expect(h.cache.status).toBe('off');
      expect(h.reachable).toBe(true);
    } finally {
      await machines.close();
    }
  });
});
