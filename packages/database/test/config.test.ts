import { describe, expect, it } from 'vitest';
import { loadDatabaseConfig, loadServiceConfig } from '../src/config/database-config.ts';
import { VendhubError } from '../src/errors/vendhub-error.ts';
import { redactText, redactUrl } from '../src/config/redact.ts';

const catchErr = (fn: () => unknown): VendhubError => {
  try {
    fn();
  } catch (e) {
    return e as VendhubError;
  }
  throw new Error('expected an error');
};

describe('database config from the environment', () => {
  it('falls back to DATABASE_URL and prefers a service URL', () => {
    const cfg = loadDatabaseConfig({ DATABASE_URL: 'postgresql://a@h1/main', MACHINES_DATABASE_URL: 'postgresql://b@h2:6543/machines' });
    expect(cfg.auth?.urlSource).toBe('DATABASE_URL');
    expect(cfg.auth?.connection.databaseKey).toBe('h1:5432/main');
    expect(cfg.machines?.urlSource).toBe('MACHINES_DATABASE_URL');
    expect(cfg.machines?.connection.databaseKey).toBe('h2:6543/machines');
    expect(cfg.shared?.service.schema).toBe('shared');
  });

  it('translates the URL parameters Prisma 7 ignores into pg.Pool settings', () => {
    const c = loadServiceConfig('auth', {
      AUTH_DATABASE_URL: 'postgresql://u:p@h/db?connection_limit=7&pool_timeout=3&connect_timeout=2&sslmode=require&pgbouncer=true&statement_timeout=500',
    });
    expect(c.connection.pool.max).toBe(7);
    expect(c.connection.pool.connectionTimeoutMillis).toBe(3000);
    expect(c.connection.pool.ssl).toEqual({ rejectUnauthorized: false });
    expect(c.connection.pool.statement_timeout).toBe(500);
    expect(c.connection.pgbouncer).toBe(true);
    expect(c.warnings.join('\n')).toMatch(/AUTH_DIRECT_URL/);
  });

  it('never waits forever by default, and explicit options override the URL', () => {
    const d = loadServiceConfig('tasks', { DATABASE_URL: 'postgresql://u@h/db' });
    expect(d.connection.pool.connectionTimeoutMillis).toBe(10_000);
    expect(d.connection.pool.max).toBe(10);
    expect(d.connection.pool.ssl).toBe(false);
    const o = loadServiceConfig('tasks', { DATABASE_URL: 'postgresql://u@h/db?connection_limit=3' }, { max: 20, connectionTimeoutMillis: 250 });
    expect(o.connection.pool.max).toBe(20);
    expect(o.connection.pool.connectionTimeoutMillis).toBe(250);
  });

  it('maps every libpq sslmode', () => {
    const ssl = (mode: string) => loadServiceConfig('auth', { DATABASE_URL: `postgresql://u@h/db?sslmode=${mode}` }).connection.pool.ssl;
    expect(ssl('disable')).toBe(false);
    expect(ssl('prefer')).toBe(false);
    expect(ssl('require')).toEqual({ rejectUnauthorized: false });
    expect(ssl('verify-full')).toEqual({ rejectUnauthorized: true });
    expect((ssl('verify-ca') as { rejectUnauthorized: boolean }).rejectUnauthorized).toBe(true);
  });

  it('reports every problem at once, naming each variable, without the password', () => {
    const e = catchErr(() =>
      loadDatabaseConfig({
        AUTH_DATABASE_URL: 'mysql://root:hunter2secret@h/db',
        MACHINES_DATABASE_URL: 'postgresql://u:hunter2secret@h/db?connection_limit=zero&sslmode=bogus&frobnicate=1',
        INVENTORY_DATABASE_URL: 'not a url',
      }),
    );
    expect(e).toBeInstanceOf(VendhubError);
    expect(e.code).toBe('CONFIG_INVALID');
    expect(e.exitCode).toBe(3);
    expect(e.message).toMatch(/AUTH_DATABASE_URL must start with postgresql:\/\//);
    expect(e.message).toMatch(/MACHINES_DATABASE_URL: connection_limit/);
    expect(e.message).toMatch(/MACHINES_DATABASE_URL: sslmode/);
    expect(e.message).toMatch(/MACHINES_DATABASE_URL: unknown parameter "frobnicate"/);
    expect(e.message).toMatch(/INVENTORY_DATABASE_URL is not a valid URL/);
    expect(e.message).toMatch(/TASKS_DATABASE_URL is not set and there is no DATABASE_URL/);
    expect(e.message).toMatch(/SHARED_DATABASE_URL is not set/);
    expect(e.message).not.toContain('hunter2secret');
    expect(JSON.stringify(e.details)).not.toContain('hunter2secret');
  });

  it('keeps the password out of logs and JSON of the resolved config', () => {
    const c = loadServiceConfig('auth', { DATABASE_URL: 'postgresql://u:s3cr3t-pw@h/db' });
    expect(c.connection.pool.password).toBe('s3cr3t-pw');
    expect(JSON.stringify(c)).not.toContain('s3cr3t-pw');
    expect(c.connection.redacted).toBe('postgresql://u:***@h/db');
    expect(redactUrl('postgresql://u:pw@h/db')).toBe('postgresql://u:***@h/db');
    expect(redactText('failed for postgres://x:topsecret@h/db and topsecret', ['topsecret'])).not.toContain('topsecret');
  });
});
