import { secretOf, withClient } from '../db/database-handle.ts';
import type { Env, ServiceConfig } from '../config/database-config.ts';
import { wrapPgError } from '../errors/pg-errors.ts';
import { describeTarget } from '../migrate/migrate-service.ts';
import { quoteIdent, quoteLiteral } from '../sql/quote.ts';

export interface RoleResult {
  readonly service: string;
  readonly role: string;
  readonly schema: string;
  readonly database: string;
  readonly created: boolean;
  readonly passwordSet: boolean;
}

export interface RoleOptions {
  /** Role name prefix; roles are `<prefix><service>`. Default `vendhub_`. */
  prefix?: string;
  /** Also revoke CONNECT on each service database from PUBLIC and grant it to the service roles. */
  lockDatabases?: boolean;
}

/** The role a service runs as. */
export const roleName = (cfg: ServiceConfig, prefix = 'vendhub_'): string => `${prefix}${cfg.service.name}`;

/**
 * Provisions one login role per service with rights only on the service's own schema: USAGE on it,
 * DML on its tables, sequences, and tables created later (default privileges). Nothing on any other
 * schema, so PostgreSQL itself refuses a service reading another's tables, whether they share a
 * database (option 1) or not (option 2). Passwords come from `<SERVICE>_ROLE_PASSWORD` and are never
 * printed. Idempotent.
 */
export async function provisionRoles(configs: readonly ServiceConfig[], env: Env = process.env, opts: RoleOptions = {}): Promise<RoleResult[]> {
  const prefix = opts.prefix ?? 'vendhub_';
  const results: RoleResult[] = [];
  for (const cfg of configs) {
    const role = roleName(cfg, prefix);
    const password = env[`${cfg.service.name.toUpperCase()}_ROLE_PASSWORD`];
    const secrets = [secretOf(cfg.direct), password].filter((s): s is string => typeof s === 'string');
    try {
      await withClient(cfg.direct, { label: describeTarget(cfg), secrets }, async (client) => {
      const exists = (await client.query('SELECT 1 FROM pg_roles WHERE rolname = $1', [role])).rowCount === 1;
      if (!exists) {
        try {
          await client.query(`CREATE ROLE ${quoteIdent(role)} LOGIN NOINHERIT`);
        } catch (e) {
          if ((e as { code?: string }).code !== '42710' && (e as { code?: string }).code !== '23505') throw e;
        }
      }
      // ALTER ROLE cannot take a bind parameter; the literal is quoted and never logged.
      if (password) await client.query(`ALTER ROLE ${quoteIdent(role)} PASSWORD ${quoteLiteral(password)}`);
      const r = quoteIdent(role);
      const s = quoteIdent(cfg.service.schema);
      await client.query(`CREATE SCHEMA IF NOT EXISTS ${s}`);
      await client.query(`REVOKE ALL ON SCHEMA ${s} FROM PUBLIC`);
      await client.query(`GRANT USAGE ON SCHEMA ${s} TO ${r}`);
      await client.query(`GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA ${s} TO ${r}`);
      await client.query(`GRANT USAGE, SELECT, UPDATE ON ALL SEQUENCES IN SCHEMA ${s} TO ${r}`);
      await client.query(`ALTER DEFAULT PRIVILEGES IN SCHEMA ${s} GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO ${r}`);
      await client.query(`ALTER DEFAULT PRIVILEGES IN SCHEMA ${s} GRANT USAGE, SELECT, UPDATE ON SEQUENCES TO ${r}`);
      const db = quoteIdent(cfg.direct.database);
      await client.query(`GRANT CONNECT ON DATABASE ${db} TO ${r}`);
      if (opts.lockDatabases) await client.query(`REVOKE CONNECT ON DATABASE ${db} FROM PUBLIC`);
      results.push({ service: cfg.service.name, role, schema: cfg.service.schema, database: cfg.direct.databaseKey, created: !exists, passwordSet: Boolean(password) });
      });
    } catch (e) {
      throw wrapPgError(e, describeTarget(cfg), secrets);
    }
  }
  return results;
}
