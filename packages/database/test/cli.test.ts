import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import { runCli } from './helpers/cli.ts';
import { createTestDatabase, urlFor, type TestDatabase } from './helpers/pg.ts';

describe('vendhub-db as a subprocess', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase('cli');
  });
  afterAll(async () => {
    await db.drop();
  });

  it('--help lists the commands and the exit codes', async () => {
    const r = await runCli(['--help']);
    expect(r.code).toBe(0);
    for (const word of ['migrate', 'status', 'drift', 'roles', 'health', 'split', 'Exit codes:', 'AUTH_DATABASE_URL']) expect(r.stdout).toContain(word);
  });

  it('no configuration: exit 3, one message naming every missing variable', async () => {
    const r = await runCli(['migrate']);
    expect(r.code).toBe(3);
    for (const v of ['AUTH_DATABASE_URL', 'MACHINES_DATABASE_URL', 'INVENTORY_DATABASE_URL', 'TASKS_DATABASE_URL', 'SHARED_DATABASE_URL']) expect(r.stderr).toContain(v);
    expect(r.stderr.match(/error \[CONFIG_INVALID\]/g)).toHaveLength(1);
  });

  it('a bad URL: exit 3, names the variable, never prints the password', async () => {
    const r = await runCli(['status', '--json'], { DATABASE_URL: 'postgresql://u:Pa55word-xyz@h/db?pool_timeout=-1' });
    expect(r.code).toBe(3);
    const out = JSON.parse(r.stdout);
    expect(out.error.code).toBe('CONFIG_INVALID');
    expect(out.error.message).toContain('DATABASE_URL: pool_timeout');
    expect(r.stdout + r.stderr).not.toContain('Pa55word-xyz');
  });

  it('unreachable server and wrong password: exit 4, no password in output', async () => {
    const closed = await runCli(['status'], { DATABASE_URL: 'postgresql://postgres:Pa55word-xyz@127.0.0.1:1/postgres?connect_timeout=2' });
    expect(closed.code).toBe(4);
    expect(closed.stderr).toMatch(/cannot connect/);
    expect(closed.stdout + closed.stderr).not.toContain('Pa55word-xyz');
    const admin = new pg.Client({ connectionString: urlFor('postgres') });
    await admin.connect();
    const role = `vh_cli_pw_${process.pid}`;
    await admin.query(`DROP ROLE IF EXISTS ${role}`);
    await admin.query(`CREATE ROLE ${role} LOGIN PASSWORD 'right-one'`);
    try {
      // The shared cluster trusts local TCP logins, so a wrong password cannot be refused there;
      // a role that may not log in is refused the same way and goes through the same path.
      await admin.query(`ALTER ROLE ${role} NOLOGIN`);
      const denied = await runCli(['status', 'auth'], { DATABASE_URL: urlFor(db.name, role, 'Wr0ng-Pa55') });
      expect(denied.code).toBe(4);
      expect(denied.stderr).toMatch(/not permitted to log in|authentication failed/);
      expect(denied.stdout + denied.stderr).not.toContain('Wr0ng-Pa55');
    } finally {
      await admin.query(`DROP ROLE IF EXISTS ${role}`);
      await admin.end();
    }
  });

  it('migrate, status, drift and health with --json; exit 6 once drifted', async () => {
    const env = { DATABASE_URL: db.url };
    const m = await runCli(['migrate', 'all', '--json'], env);
    expect(m.code).toBe(0);
    expect(JSON.parse(m.stdout).results).toHaveLength(5);
    const again = await runCli(['migrate'], env);
    expect(again.stdout).toMatch(/auth: up to date/);
    const s = await runCli(['status', '--json'], env);
    expect(s.code).toBe(0);
    expect(JSON.parse(s.stdout).ok).toBe(true);
    const h = await runCli(['health', 'tasks', '--json'], env);
    expect(h.code).toBe(0);
    expect(JSON.parse(h.stdout).results[0].pool.max).toBe(10);
    const c = new pg.Client({ connectionString: db.url });
    await c.connect();
    await c.query('ALTER TABLE tasks_service.tasks ADD COLUMN hacked int');
    await c.end();
    const d = await runCli(['drift', 'tasks'], env);
    expect(d.code).toBe(6);
    expect(d.stdout).toContain('extra   column tasks.hacked integer');
    const u = await runCli(['migrate', 'payments'], env);
    expect(u.code).toBe(2);
    expect(u.stderr).toContain('unknown service "payments"');
  });
});
