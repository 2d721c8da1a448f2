import { randomUUID } from 'node:crypto';
import type pg from 'pg';
import { PrismaPg } from '@prisma/adapter-pg';
import type { ParsedConnection } from '../config/connection-url.ts';
import { openDatabase, withClient } from '../db/database-handle.ts';
import { VendhubError } from '../errors/vendhub-error.ts';
import { quoteIdent } from '../sql/quote.ts';

/** What the schema engine needs from an adapter factory that can also give it a shadow database. */
export interface ShadowAwareFactory {
  readonly factory: {
    readonly provider: 'postgres';
    readonly adapterName: string;
    connect(): Promise<unknown>;
    connectToShadowDb(): Promise<unknown>;
  };
  /** The first failure to create a shadow database (kept: the engine reports it as a plain string). */
  readonly failure: () => VendhubError | undefined;
  /** Drops every shadow database still there (the engine failed before disposing of it). */
  dropAll(): Promise<void>;
}

/**
 * The engine replays a service's migration history in a temporary "shadow" database to diff it
 * with schema.prisma. @prisma/adapter-pg's own version drops that database while its pool is
 * still connected ("being accessed by other users") and copies the pool options with a spread
 * (losing the password). Here the shadow database is created, opened and dropped through the
 * connection floor: its pool is ended first, the drop uses WITH (FORCE), and `dropAll()` removes
 * any the engine left behind when the diff failed.
 */
export function shadowAwareFactory(conn: ParsedConnection, pool: pg.Pool, searchPath: string, label: string): ShadowAwareFactory {
  charAsText(pool);
  const main = new PrismaPg(pool, {});
  const live = new Set<string>();
  let failure: VendhubError | undefined;
  const drop = async (name: string) => {
    await withClient(conn, { label }, (c) => c.query(`DROP DATABASE IF EXISTS ${quoteIdent(name)} WITH (FORCE)`));
    live.delete(name);
  };
  const factory = {
    provider: 'postgres' as const,
    adapterName: main.adapterName,
    connect: () => main.connect(),
    async connectToShadowDb() {
      const name = `prisma_migrate_shadow_db_${randomUUID()}`;
      try {
        await withClient(conn, { label }, (c) => c.query(`CREATE DATABASE ${quoteIdent(name)}`));
      } catch (e) {
        failure ??= new VendhubError('PRIVILEGE_MISSING', `${label}: new-migration replays the history in a temporary shadow database and could not create one`, {
          cause: e, hint: 'Use a role with CREATEDB for this command (for example through <SERVICE>_DIRECT_URL).',
        });
        throw failure;
      }
      live.add(name);
      const shadow = openDatabase(conn, { label: `shadow database ${name}`, database: name, max: 2, searchPath });
      charAsText(shadow.pool);
      const adapter = (await new PrismaPg(shadow.pool, {}).connect()) as { dispose(): Promise<void> };
      const dispose = adapter.dispose.bind(adapter);
      adapter.dispose = async () => {
        await dispose();
        await shadow.pool.end();
        await drop(name);
      };
      return adapter;
    },
  };
  return {
    factory,
    failure: () => failure,
    async dropAll() {
      for (const name of [...live]) await drop(name).catch(() => {});
    },
  };
}

const CHAR_OID = 18;
const TEXT_OID = 25;

/**
 * The engine introspects the shadow database with catalog queries returning `"char"` columns
 * (relkind, attidentity …); @prisma/adapter-pg 7.10 has no column type for OID 18 and fails with
 * "Column type 'char' could not be deserialized". Its values are one-character strings, so the
 * result is labelled text before the adapter reads it. Only the schema engine's pools get this.
 */
function charAsText(pool: pg.Pool): void {
  const fix = (r: pg.QueryResult | undefined) => {
    for (const f of r?.fields ?? []) if (f.dataTypeID === CHAR_OID) f.dataTypeID = TEXT_OID;
    return r;
  };
  const wrap = (target: { query: (...a: unknown[]) => unknown }) => {
    const query = target.query.bind(target);
    target.query = (...args: unknown[]) => {
      const last = args[args.length - 1];
      if (typeof last === 'function') {
        args[args.length - 1] = (err: unknown, r: pg.QueryResult) => (last as (e: unknown, r: unknown) => void)(err, fix(r));
        return query(...args);
      }
      const out = query(...args);
      return out && typeof (out as Promise<unknown>).then === 'function' ? (out as Promise<pg.QueryResult>).then(fix) : out;
    };
  };
  wrap(pool as unknown as { query: (...a: unknown[]) => unknown });
  pool.on('connect', (client) => wrap(client as unknown as { query: (...a: unknown[]) => unknown }));
}
