import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, beforeAll } from 'vitest';
import { loadServiceConfig } from '../../src/config/database-config.ts';
import { migrateService } from '../../src/migrate/migrate-service.ts';
import type { ServiceName } from '../../src/services.ts';
import { adminQuery, createTestDatabase, urlFor, type TestDatabase } from './pg.ts';
import { dropRedisKeys } from './redis-keys.ts';

export { dropRedisKeys };

export const REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

/**
 * Per test file: a template database migrated for `services`, registered with beforeAll/afterAll.
 * `fresh()` gives each test its own copy of it and its own Redis key prefix; everything (databases
 * and keys) goes when the file ends.
 */
export function cacheTestDatabases(name: string, services: readonly ServiceName[]): { fresh(): Promise<{ url: string; prefix: string }> } {
  let template: TestDatabase;
  const databases: string[] = [];
  beforeAll(async () => {
    template = await createTestDatabase(`${name}tpl`);
    for (const s of services) await migrateService(loadServiceConfig(s, { DATABASE_URL: template.url }));
  });
  afterAll(async () => {
    // Tests that stop Redis start it again; if one did not, its keys are left, not the run hung.
    const redis = new Redis(REDIS_URL, { maxRetriesPerRequest: 1, retryStrategy: () => null });
    redis.on('error', () => {});
    await dropRedisKeys(redis, databases.map((d) => `test:${d}:`)).catch(() => {});
    redis.disconnect();
    await Promise.all(databases.map((d) => adminQuery(`DROP DATABASE IF EXISTS "${d}" WITH (FORCE)`)));
    await template?.drop();
  });
  return {
    async fresh() {
      const db = `vh_${name}_${randomBytes(4).toString('hex')}`;
      await adminQuery(`CREATE DATABASE "${db}" TEMPLATE "${template.name}"`);
      databases.push(db);
      return { url: urlFor(db), prefix: `test:${db}:` };
    },
  };
}
