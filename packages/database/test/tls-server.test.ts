import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildMonolith } from '../src/monolith/build-monolith.ts';
import { runCli, spawnCli, until, type CliResult } from './helpers/cli.ts';
import { CLUSTER_PASSWORD, startLogicalCluster, type LogicalCluster } from './helpers/logical-cluster.ts';
import { untilSlotsActive } from './helpers/rollback-window.ts';

// A server that accepts TLS only (hostssl), scram-sha-256, a CA made by the test: like a managed cloud database.
let cluster: LogicalCluster;
let golden: string;

beforeAll(async () => {
  cluster = await startLogicalCluster({ tls: true });
  golden = await cluster.createDatabase('gold');
  await buildMonolith(cluster.url(golden), { scale: 0.3, seed: 8, danglingTransactions: 0 });
});
afterAll(async () => {
  await cluster?.stop();
});

const outputs: string[] = [];
const seen = (r: CliResult): CliResult => {
  outputs.push(r.stdout + r.stderr);
  return r;
};

describe('a TLS-only server (sslmode=verify-full with the test CA, and sslmode=require)', () => {
  it('migrate, roles, health, split run --follow, cutover and verify all work through TLS', async () => {
    const src = await cluster.createDatabase('src', golden);
    const dst = await cluster.createDatabase('dst');
    const env = {
      SOURCE_DATABASE_URL: cluster.url(src),
      DATABASE_URL: cluster.url(dst, 'postgres', { sslmode: 'require' }),
      AUTH_ROLE_PASSWORD: 'r0le@pw%',
    };
    const m = seen(await runCli(['migrate'], env));
    expect(m.code, m.stderr).toBe(0);
    const roles = seen(await runCli(['roles', 'auth'], env));
    expect(roles.code, roles.stderr).toBe(0);
    const h = seen(await runCli(['health', '--json'], env));
    expect(h.code, h.stdout + h.stderr).toBe(0);
    expect(JSON.parse(h.stdout).ok ?? true).toBe(true);

    const follower = spawnCli(['split', 'run', '--follow', '--no-progress'], env);
    const { child, exited } = follower;
    try {
      await untilSlotsActive(cluster, 'vendhub_split', 1, follower, 60_000);
      await cluster.query(`UPDATE public."Location" SET name = 'over tls' WHERE id = (SELECT min(id) FROM public."Location")`, [], src);
      await until(async () => (await cluster.query<{ n: number }>(`SELECT count(*)::int AS n FROM machines_service.locations WHERE name = 'over tls'`, [], dst))[0]?.n === 1,
        30_000, () => `change not applied: ${follower.output()}`);
      const c = seen(await runCli(['split', 'cutover', '--json'], env, 120_000));
      expect(c.code, c.stdout + c.stderr).toBe(0);
      expect(await exited, follower.output()).toBe(0);
      const v = seen(await runCli(['split', 'verify', '--json'], env, 120_000));
      expect(v.code, v.stdout + v.stderr).toBe(0);
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
      outputs.push(follower.output());
    }
    const a = seen(await runCli(['split', 'abort'], env));
    expect(a.code, a.stderr).toBe(0);
  }, 480_000);

  it.each([
    ['a CA that did not sign the server certificate', () => cluster.url(golden, 'postgres', { sslrootcert: cluster.otherCaFile as string })],
    ['a host name the certificate does not name', () => cluster.url(golden, 'postgres', { host: 'localhost' })],
    ['no TLS at all (the server accepts hostssl only)', () => cluster.url(golden, 'postgres', { sslmode: 'disable' })],
  ])('%s is refused with exit 4, a clear message and no stack trace', async (_what, url) => {
    const r = seen(await runCli(['split', 'plan'], { SOURCE_DATABASE_URL: url(), DATABASE_URL: cluster.url(golden, 'postgres', { sslmode: 'require' }) }, 60_000));
    expect(r.code, r.stdout + r.stderr).toBe(4);
    expect(r.stderr).toMatch(/source database 127\.0\.0\.1:\d+\/gold|source database localhost:\d+\/gold/);
    expect(r.stderr).toMatch(/TLS refused|certificate|no pg_hba\.conf entry|no encryption/i);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });

  it('no output of these runs contains the password', () => {
    expect(outputs.length).toBeGreaterThan(5);
    for (const o of outputs) {
      expect(o).not.toContain(CLUSTER_PASSWORD);
      expect(o).not.toContain(encodeURIComponent(CLUSTER_PASSWORD));
      expect(o).not.toContain('r0le@pw%');
    }
  });
});
