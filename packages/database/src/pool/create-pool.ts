import type pg from 'pg';
import type { ServiceConfig } from '../config/database-config.ts';
import { openDatabase } from '../db/database-handle.ts';

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
  // The applications' own sessions: not pinned (Prisma's adapter parses values itself), not read-only.
  return openDatabase(cfg.connection, { label: `${cfg.service.name} service database ${cfg.connection.databaseKey}`, pin: false }, onError).pool;
}

export function poolCounts(pool: pg.Pool): PoolCounts {
  return { total: pool.totalCount, idle: pool.idleCount, waiting: pool.waitingCount, max: pool.options.max };
}
