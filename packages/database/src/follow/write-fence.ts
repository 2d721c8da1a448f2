import type pg from 'pg';
import { qualified, quoteIdent } from '../sql/quote.ts';
import type { TableMapping } from '../split/split-plan.ts';
import { CHECKPOINT_SCHEMA } from '../split/checkpoint-store.ts';

/** One privilege the fence took away: restored by `abort` (or a rollback). */
export interface RevokedGrant {
  readonly table: string;
  readonly grantee: string;
  readonly privilege: string;
  readonly grantable: boolean;
}

const WRITE_PRIVILEGES = ['INSERT', 'UPDATE', 'DELETE', 'TRUNCATE'];

/**
 * Makes the mapped source tables read-only for every role that is not a superuser (superusers,
 * e.g. this tool, cannot be fenced this way: stop such writers yourself). Runs in the caller's
 * transaction and returns what it revoked, so the same transaction can record it.
 */
export async function revokeWrites(c: pg.ClientBase, tables: readonly TableMapping[]): Promise<RevokedGrant[]> {
  return revokeFrom(c, tables.map((t) => qualified(t.sourceSchema, t.sourceTable)), false);
}

/**
 * The targets' side while following: makes the mapped target tables read-only for every role but
 * superusers and the role applying the changes (and the roles it is directly a member of; not
 * pg_has_role, which is true for every role when the applier is a superuser), so that between
 * a background verify pass and the fence nothing but the follower writes there. Given back by
 * `cutover` at the end of the freeze, or by `abort`. Runs in the caller's transaction.
 */
export async function revokeTargetWrites(c: pg.ClientBase, tables: readonly TableMapping[]): Promise<RevokedGrant[]> {
  return revokeFrom(c, tables.map((t) => qualified(t.targetSchema, t.targetTable)), true);
}

async function revokeFrom(c: pg.ClientBase, tables: readonly string[], keepApplier: boolean): Promise<RevokedGrant[]> {
  const names = [...new Set(tables)];
  const r = await c.query<{ tbl: string; grantee: string; privilege: string; grantable: boolean }>(
    `SELECT a.tbl, CASE WHEN x.grantee = 0 THEN 'PUBLIC' ELSE pg_get_userbyid(x.grantee) END AS grantee, x.privilege_type AS privilege, x.is_grantable AS grantable
       FROM unnest($1::text[]) AS a(tbl)
       JOIN pg_class c ON c.oid = a.tbl::regclass
       CROSS JOIN LATERAL aclexplode(coalesce(c.relacl, acldefault('r', c.relowner))) x
       LEFT JOIN pg_roles r ON r.oid = x.grantee
      WHERE x.privilege_type = ANY($2) AND (x.grantee = 0 OR NOT r.rolsuper)
        AND NOT ($3 AND x.grantee IN (SELECT oid FROM pg_roles WHERE rolname = current_user
                                      UNION SELECT m.roleid FROM pg_auth_members m JOIN pg_roles me ON me.oid = m.member AND me.rolname = current_user))
      ORDER BY 1, 2, 3`, [names, WRITE_PRIVILEGES, keepApplier]);
  const revoked: RevokedGrant[] = r.rows.map((x) => ({ table: x.tbl, grantee: x.grantee, privilege: x.privilege, grantable: x.grantable }));
  for (const g of revoked) await c.query(`REVOKE ${g.privilege} ON ${g.table} FROM ${grantee(g.grantee)} CASCADE`);
  return revoked;
}

/** Gives back what `revokeWrites` took. */
export async function restoreWrites(c: pg.ClientBase, grants: readonly RevokedGrant[]): Promise<void> {
  for (const g of grants) {
    await c.query(`GRANT ${g.privilege} ON ${g.table} TO ${grantee(g.grantee)}${g.grantable ? ' WITH GRANT OPTION' : ''}`);
  }
}

const grantee = (name: string) => (name === 'PUBLIC' ? 'PUBLIC' : quoteIdent(name));

const FENCE = `${CHECKPOINT_SCHEMA}.follow_fence`;

/** Records the revoked grants in a target database (so `abort` finds them after any crash). */
export async function recordFence(c: pg.ClientBase, slot: string, grants: readonly RevokedGrant[]): Promise<void> {
  for (const g of grants) {
    await c.query(`INSERT INTO ${FENCE} (slot, table_name, grantee, privilege, grantable) VALUES ($1,$2,$3,$4,$5) ON CONFLICT DO NOTHING`,
      [slot, g.table, g.grantee, g.privilege, g.grantable]);
  }
}

export async function loadFence(c: pg.ClientBase, slot: string): Promise<RevokedGrant[]> {
  if (!(await c.query(`SELECT to_regclass($1) AS t`, [FENCE])).rows[0]?.t) return [];
  const r = await c.query<{ table_name: string; grantee: string; privilege: string; grantable: boolean }>(
    `SELECT table_name, grantee, privilege, grantable FROM ${FENCE} WHERE slot = $1 ORDER BY 1, 2, 3`, [slot]);
  return r.rows.map((x) => ({ table: x.table_name, grantee: x.grantee, privilege: x.privilege, grantable: x.grantable }));
}

export async function clearFence(c: pg.ClientBase, slot: string): Promise<void> {
  if (!(await c.query(`SELECT to_regclass($1) AS t`, [FENCE])).rows[0]?.t) return;
  await c.query(`DELETE FROM ${FENCE} WHERE slot = $1`, [slot]);
}

/**
 * Waits until no other session of the source holds a write transaction (an xid) — those started
 * before the fence may still commit. With `startedBefore` (the fence's time) only transactions
 * older than it count: newer ones cannot write the fenced tables. Returns false on timeout.
 */
export async function waitForWritersGone(c: pg.ClientBase, timeoutMs: number, startedBefore?: Date): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const r = await c.query(`SELECT count(*)::int AS n FROM pg_stat_activity WHERE backend_xid IS NOT NULL AND pid <> pg_backend_pid()
      AND datname = current_database() AND ($1::timestamptz IS NULL OR xact_start < $1)`, [startedBefore ?? null]);
    if (r.rows[0]?.n === 0) return true;
    if (Date.now() > deadline) return false;
    await new Promise((res) => setTimeout(res, 20));
  }
}
