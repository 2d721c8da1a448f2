import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createAuthClient } from '../src/clients/auth.client.ts';
import { cacheTestDatabases } from './helpers/cache.ts';
import { freePort, OwnRedis } from './helpers/own-redis.ts';

// Issue 10: the cache and its local tier against a Redis that requires a password (the default
// user's, and an ACL user's), passwords with URL-special characters; no password in any output.
const { fresh } = cacheTestDatabases('cacheauth', ['auth']);
const PASSWORD = 'p@ss%w:rd/1#?';
const ACL_PASSWORD = 'acl@user%2F:pw';
let server: OwnRedis;

beforeAll(async () => {
  server = new OwnRedis(await freePort());
  await server.start(PASSWORD);
  const admin = new Redis({ host: '127.0.0.1', port: server.port, password: PASSWORD });
  await admin.call('ACL', 'SETUSER', 'cache_app', 'on', `>${ACL_PASSWORD}`, '~*', '&*', '+@all');
  await admin.quit();
});
afterAll(async () => {
  await server?.kill();
});

const url = (user: string, password: string) => `redis://${encodeURIComponent(user)}:${encodeURIComponent(password)}@127.0.0.1:${server.port}`;
const secrets = [PASSWORD, ACL_PASSWORD, encodeURIComponent(PASSWORD), encodeURIComponent(ACL_PASSWORD), 'wrong-Secret@1', encodeURIComponent('wrong-Secret@1')];
function expectNoSecret(label: string, text: string): void {
  for (const s of secrets) expect(text.includes(s), `${label} contains a password`).toBe(false);
}

describe('Redis with a password', () => {
  for (const [user, password] of [
    ['default', PASSWORD],
    ['cache_app', ACL_PASSWORD],
  ] as const) {
    it(`REDIS_URL with ${user}:<password>@ works for the cache and the local tier, and prints no password`, async () => {
      const { url: dbUrl, prefix } = await fresh();
      const errors: Error[] = [];
      const logged = vi.spyOn(console, 'error');
      const auth = createAuthClient({ env: { DATABASE_URL: dbUrl, REDIS_URL: url(user, password) }, cache: { keyPrefix: prefix, timeoutMs: 1_000, local: { ttl: 30 }, onError: (e) => void errors.push(e) } });
      try {
        expect(await auth.$cache.health()).toMatchObject({ status: 'ok' });
        const u = await auth.user.create({ data: { email: 'a@example.com', name: 'a', passwordHash: 'h' } });
        const read = () => auth.user.findUnique({ where: { id: u.id }, cache: { local: true } });
        await read();
        await vi.waitFor(() => expect(auth.$cache.stats()).toMatchObject({ inFlight: 0, local: 'on' }), { timeout: 5_000 });
        await read();
        await read();
        const s = auth.$cache.stats();
        expect(s.hits).toBeGreaterThanOrEqual(1);
        expect(s.localHits).toBeGreaterThanOrEqual(1);
        expect(s.redisErrors).toBe(0);
        await auth.user.update({ where: { id: u.id }, data: { name: 'b' } });
        expect((await read())?.name).toBe('b');
        expectNoSecret('stats', JSON.stringify(auth.$cache.stats()));
        expectNoSecret('health', JSON.stringify(await auth.health()));
        expectNoSecret('errors', errors.map((e) => `${e.message}\n${e.stack}`).join('\n'));
        expectNoSecret('console', JSON.stringify(logged.mock.calls));
      } finally {
        await auth.close();
        logged.mockRestore();
      }
    });
  }

  it('a wrong password: reads fail open to the database, health says down, and no password appears anywhere', async () => {
    const { url: dbUrl, prefix } = await fresh();
    const errors: Error[] = [];
    const logged = vi.spyOn(console, 'error');
    const auth = createAuthClient({ env: { DATABASE_URL: dbUrl, REDIS_URL: url('default', 'wrong-Secret@1') }, cache: { keyPrefix: prefix, timeoutMs: 100, local: true, onError: (e) => void errors.push(e) } });
    try {
      const u = await auth.user.create({ data: { email: 'w@example.com', name: 'w', passwordHash: 'h' } });
      for (let i = 0; i < 3; i++) expect((await auth.user.findUnique({ where: { id: u.id }, cache: true }))?.name).toBe('w');
      const h = await auth.health();
      expect(h.cache.status).toBe('down');
      await vi.waitFor(() => expect(errors.length).toBeGreaterThan(0), { timeout: 5_000 });
      expect(errors.map((e) => e.message).join('\n')).toMatch(/WRONGPASS|NOAUTH|invalid password|auth/i);
      expectNoSecret('stats', JSON.stringify(auth.$cache.stats()));
      expectNoSecret('health', JSON.stringify(h));
      expectNoSecret('errors', errors.map((e) => `${e.message}\n${e.stack}\n${JSON.stringify(e)}`).join('\n'));
      expectNoSecret('console', JSON.stringify(logged.mock.calls));
    } finally {
      await auth.close();
      logged.mockRestore();
    }
  });
});
