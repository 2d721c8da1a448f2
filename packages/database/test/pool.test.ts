import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTasksClient } from '../src/clients/tasks.client.ts';
import { VendhubError } from '../src/errors/vendhub-error.ts';
import { createTestDatabase, type TestDatabase } from './helpers/pg.ts';
import { migrateAll } from './helpers/topology.ts';

describe('pool limits from the URL', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase('pool');
    await migrateAll({ DATABASE_URL: db.url });
  });
  afterAll(async () => {
    await db.drop();
  });

  it('an exhausted pool ends in a clear POOL_TIMEOUT after pool_timeout, not a hang', async () => {
    const client = createTasksClient({ env: { TASKS_DATABASE_URL: `${db.url}?connection_limit=1&pool_timeout=1` } });
    try {
      // The pool's one connection made first (a slow connect under load is not what this tests),
      // then held by a transaction: the count below starts only once the transaction has it.
      expect(await client.task.count()).toBe(0);
      let release!: () => void;
      const held = new Promise<void>((r) => (release = r));
      let holding!: () => void;
      const inside = new Promise<void>((r) => (holding = r));
      const tx = client.$transaction(async (t) => {
        await t.task.count();
        holding();
        await held;
      }, { timeout: 60_000, maxWait: 30_000 });
      await Promise.race([inside, tx]);
      const started = Date.now();
      const err = await client.task.count().then(() => undefined, (e: unknown) => e);
      const waited = Date.now() - started;
      release();
      await tx;
      expect(err).toBeInstanceOf(VendhubError);
      expect((err as VendhubError).code).toBe('POOL_TIMEOUT');
      expect((err as VendhubError).message).toMatch(/tasks: no database connection free within 1000 ms \(pool of 1/);
      expect(waited).toBeGreaterThanOrEqual(900);
      expect(waited).toBeLessThan(5000);
      expect(await client.task.count()).toBe(0);
    } finally {
      await client.close();
    }
  });

  it('never opens more server connections than connection_limit', async () => {
    const client = createTasksClient({ env: { TASKS_DATABASE_URL: `${db.url}?connection_limit=4&application_name=vh_pool_test` } });
    try {
      await Promise.all(Array.from({ length: 200 }, () => client.task.count()));
      const rows = await client.$queryRawUnsafe<{ n: bigint }[]>(`SELECT count(*) AS n FROM pg_stat_activity WHERE application_name = 'vh_pool_test' AND datname = current_database()`);
      expect(Number(rows[0]?.n)).toBeLessThanOrEqual(4);
      expect((await client.health()).pool.total).toBeLessThanOrEqual(4);
    } finally {
      await client.close();
    }
  });
});
