import type pg from 'pg';
import { quoteIdent } from '../sql/quote.ts';

/** SQLSTATEs a lost CREATE ROLE race ends with: duplicate_object, or unique_violation on pg_authid. */
const LOST_RACE = new Set(['42710', '23505']);

export interface RoleSpec {
  readonly name: string;
  readonly login: boolean;
  readonly bypassRls: boolean;
}

/**
 * Creates a cluster-wide role if missing, and gives an existing one the attributes it lacks.
 * Roles are global, so test processes building databases side by side race to create the same
 * role: the loser's error means "someone else made it", which is the outcome we wanted.
 * Returns whether this call created the role.
 */
export async function ensureRole(client: pg.ClientBase, role: RoleSpec): Promise<boolean> {
  const attrs = `${role.login ? 'LOGIN' : 'NOLOGIN'} ${role.bypassRls ? 'BYPASSRLS' : 'NOBYPASSRLS'}`;
  const found = await client.query<{ rolcanlogin: boolean; rolbypassrls: boolean }>(
    'SELECT rolcanlogin, rolbypassrls FROM pg_roles WHERE rolname = $1',
    [role.name],
  );
  const existing = found.rows[0];
  if (existing) {
    if (existing.rolcanlogin !== role.login || existing.rolbypassrls !== role.bypassRls) {
      await client.query(`ALTER ROLE ${quoteIdent(role.name)} ${attrs}`).catch(async (e: unknown) => {
        // Two sessions fixing the same role at once: "tuple concurrently updated" for the loser.
        const now = await client.query<{ ok: boolean }>(
          'SELECT rolcanlogin = $2 AND rolbypassrls = $3 AS ok FROM pg_roles WHERE rolname = $1',
          [role.name, role.login, role.bypassRls],
        );
        if (!now.rows[0]?.ok) throw e;
      });
    }
    return false;
  }
  try {
    await client.query(`CREATE ROLE ${quoteIdent(role.name)} ${attrs}`);
    return true;
  } catch (e) {
    if (LOST_RACE.has((e as { code?: string }).code ?? '')) return false;
    throw e;
  }
}
