import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAuthClient } from '../src/clients/auth.client.ts';
import { loadDatabaseConfig, type ServiceConfig } from '../src/config/database-config.ts';
import { provisionRoles } from '../src/roles/provision-roles.ts';
import { SERVICES } from '../src/services.ts';
import { adminQuery, urlFor } from './helpers/pg.ts';
import { migrateAll, perServiceTopology, sharedTopology, type Topology } from './helpers/topology.ts';

const prefix = `vhr${randomBytes(3).toString('hex')}_`;

async function dropRoles(topos: Topology[]) {
  for (const t of topos) for (const d of t.databases) {
    const c = new pg.Client({ connectionString: d.url });
    await c.connect();
    for (const s of SERVICES) await c.query(`DO $$ BEGIN IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '${prefix}${s}') THEN EXECUTE 'DROP OWNED BY ${prefix}${s}'; END IF; END $$`);
    await c.end();
  }
  for (const s of SERVICES) await adminQuery(`DROP ROLE IF EXISTS ${prefix}${s}`);
}

async function queryAs(role: string, database: string, sql: string): Promise<{ ok: boolean; code?: string }> {
  const c = new pg.Client({ connectionString: urlFor(database, role, 'role-pw-1') });
  await c.connect();
  try {
    await c.query(sql);
    return { ok: true };
  } catch (e) {
    return { ok: false, code: (e as { code?: string }).code };
  } finally {
    await c.end();
  }
}

describe('per-service roles enforced by PostgreSQL', () => {
  let one: Topology;
  let two: Topology;
  const passwords = Object.fromEntries(SERVICES.map((s) => [`${s.toUpperCase()}_ROLE_PASSWORD`, 'role-pw-1']));
  beforeAll(async () => {
    one = await sharedTopology('roles1');
    two = await perServiceTopology('roles2');
    await migrateAll(one.env);
    await migrateAll(two.env);
  });
  afterAll(async () => {
    await dropRoles([one, two]);
    await one.drop();
    await two.drop();
  });

  it('option 1: each role reads its own schema and is refused on every other', async () => {
    const cfg = loadDatabaseConfig(one.env);
    const res = await provisionRoles(SERVICES.map((s) => cfg[s] as ServiceConfig), passwords, { prefix });
    expect(res.map((r) => r.role)).toEqual(SERVICES.map((s) => `${prefix}${s}`));
    expect(res.every((r) => r.passwordSet)).toBe(true);
    const db = one.databases[0]?.name as string;
    expect(await queryAs(`${prefix}auth`, db, 'SELECT count(*) FROM auth_service.users')).toEqual({ ok: true });
    expect(await queryAs(`${prefix}auth`, db, 'SELECT count(*) FROM machines_service.machines')).toEqual({ ok: false, code: '42501' });
    expect(await queryAs(`${prefix}tasks`, db, 'SELECT count(*) FROM auth_service.users')).toEqual({ ok: false, code: '42501' });
    expect(await queryAs(`${prefix}machines`, db, 'INSERT INTO shared.transactions (id, machine_id, amount, payment_type, status) VALUES (1, 1, 1, 1, 1)')).toEqual({ ok: false, code: '42501' });
    expect(await queryAs(`${prefix}auth`, db, 'DROP TABLE auth_service.users')).toEqual({ ok: false, code: '42501' });
    // Idempotent.
    const again = await provisionRoles(SERVICES.map((s) => cfg[s] as ServiceConfig), passwords, { prefix });
    expect(again.every((r) => !r.created)).toBe(true);
  });

  it('option 2: the same rights, database by database; the client runs as the role', async () => {
    const cfg = loadDatabaseConfig(two.env);
    await provisionRoles(SERVICES.map((s) => cfg[s] as ServiceConfig), passwords, { prefix });
    const authDb = two.databases[0]?.name as string;
    const machinesDb = two.databases[1]?.name as string;
    expect(await queryAs(`${prefix}machines`, machinesDb, 'SELECT count(*) FROM machines_service.machines')).toEqual({ ok: true });
    expect(await queryAs(`${prefix}auth`, machinesDb, 'SELECT count(*) FROM machines_service.machines')).toEqual({ ok: false, code: '42501' });
    const client = createAuthClient({ env: { AUTH_DATABASE_URL: urlFor(authDb, `${prefix}auth`, 'role-pw-1') } });
    try {
      const u = await client.user.create({ data: { email: 'r@x', name: 'r', passwordHash: 'h', roles: [] } });
      expect((await client.user.findUniqueOrThrow({ where: { id: u.id } })).email).toBe('r@x');
      const h = await client.health();
      expect(h.migrations?.current).toBe(true);
      const denied = await client.$queryRawUnsafe('SELECT 1 FROM machines_service.machines').then(() => 'allowed', (e: Error) => e.message);
      expect(denied).toMatch(/does not exist|permission denied/);
    } finally {
      await client.close();
    }
  });
});
