import { PrismaPg } from '@prisma/adapter-pg';
import { parseConnectionUrl, type PoolOverrides } from '../config/connection-url.ts';
import type { Env } from '../config/database-config.ts';
import { openDatabase } from '../db/database-handle.ts';
import { VendhubError } from '../errors/vendhub-error.ts';
import { PrismaClient } from '../generated/monolith/client.ts';

export * as MonolithDb from '../generated/monolith/client.ts';

/** The variable naming the monolith's database (the split's source, `public` schema). */
export const MONOLITH_URL_VAR = 'MONOLITH_DATABASE_URL';

export interface MonolithClientOptions {
  /** Environment to read `MONOLITH_DATABASE_URL` from. Default: process.env. */
  env?: Env;
  /** Explicit pool settings; they override URL parameters such as connection_limit. */
  pool?: PoolOverrides;
}

/**
 * One Prisma client over the whole monolith schema (every model, every relation), the way the
 * services used the database before the split; configured from `MONOLITH_DATABASE_URL`, parsed
 * like the service URLs (`connection_limit`, `pool_timeout`, `sslmode` honoured). `close()` ends
 * the client and its pool. For code that has not moved to the per-service clients yet, and for
 * comparing with it; no cache, no guard.
 *
 * @example
 *   const { createMonolithClient } = require('@vendhub/database/monolith');
 *   const prisma = createMonolithClient();
 *   await prisma.machine.findMany({ include: { tasks: true } });
 */
export function createMonolithClient(options: MonolithClientOptions = {}) {
  const env = options.env ?? process.env;
  const raw = env[MONOLITH_URL_VAR]?.trim();
  if (!raw) throw new VendhubError('CONFIG_INVALID', `${MONOLITH_URL_VAR} is not set (the monolith's database URL)`);
  const problems: string[] = [];
  const conn = parseConnectionUrl(MONOLITH_URL_VAR, raw, options.pool ?? {}, problems);
  if (!conn || problems.length > 0) throw new VendhubError('CONFIG_INVALID', `Invalid ${MONOLITH_URL_VAR}:\n  - ${problems.join('\n  - ')}`, { details: { problems } });
  // The application's own sessions: server defaults, not the tool's pinned settings.
  const { pool } = openDatabase(conn, { label: `monolith database (${MONOLITH_URL_VAR})`, pin: false });
  const client = new PrismaClient({ adapter: new PrismaPg(pool), errorFormat: 'minimal' });
  let closing: Promise<void> | undefined;
  return client.$extends({
    name: 'vendhub-monolith-lifecycle',
    client: {
      /** Ends the client and its pool; idempotent. */
      close(): Promise<void> {
        closing ??= (async () => {
          await client.$disconnect();
          if (!pool.ended) await pool.end();
        })();
        return closing;
      },
    },
  });
}

export type MonolithClient = ReturnType<typeof createMonolithClient>;

let shared: MonolithClient | undefined;

/** A process-wide monolith client, created on first use. */
export function getMonolithClient(): MonolithClient {
  shared ??= createMonolithClient();
  return shared;
}
