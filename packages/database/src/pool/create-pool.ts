import pg from 'pg';
import type { ServiceConfig } from '../config/database-config.ts';
import { hidePassword } from '../config/connection-url.ts';

export interface PoolCounts {
  readonly total: number;
  readonly idle: number;
  readonly waiting: number;
  readonly max: number;
}

/**
 * A pg.Pool for one service, sized and timed by its config. Idle-client errors (a server restart,
 * PgBouncer closing a link) are reported to `onError` instead of crashing the process.
 */
export function createServicePool(cfg: ServiceConfig, onError: (err: Error) => void = () => {}): pg.Pool {
  const config = hidePassword({ ...cfg.connection.pool, password: cfg.connection.pool.password });
  const pool = new pg.Pool(config);
  pool.on('error', onError);
  return pool;
}

export function poolCounts(pool: pg.Pool): PoolCounts {
  return { total: pool.totalCount, idle: pool.idleCount, waiting: pool.waitingCount, max: pool.options.max };
}
