/**
 * Another process for the local-tier tests: updates one user's name to 1, 2, ... N through a cached
 * auth client and prints `acked <n>` once each update (and its invalidation) has returned.
 *
 *   tsx test/helpers/cache-writer-child.ts <database url> <redis url> <key prefix> <user id> <n> <pause ms>
 */
import pg from 'pg';
import { PrismaPg } from '@prisma/adapter-pg';
import { PrismaClient } from '../../src/generated/auth/client.ts';
import { createCacheExtension } from '../../src/cache/index.ts';

const [url, redisUrl, keyPrefix, id, n, pause] = process.argv.slice(2) as [string, string, string, string, string, string];
const pool = new pg.Pool({ connectionString: url, max: 2 });
const base = new PrismaClient({ adapter: new PrismaPg(pool, { schema: 'auth_service' }) });
const prisma = base.$extends(createCacheExtension({ service: 'auth', redisUrl, keyPrefix, timeoutMs: 1_000 }));
// Ready: the parent starts its clock of acknowledged writes from here.
await prisma.user.findUnique({ where: { id }, cache: true });
process.stdout.write('ready\n');
for (let v = 1; v <= Number(n); v++) {
  await prisma.user.update({ where: { id }, data: { name: String(v) } });
  process.stdout.write(`acked ${v}\n`);
  await new Promise((r) => setTimeout(r, Math.random() * Number(pause)));
}
await prisma.$cache.close();
await base.$disconnect();
await pool.end();
