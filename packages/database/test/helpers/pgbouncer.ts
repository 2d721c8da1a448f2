import { execFileSync, spawnSync } from 'node:child_process';
import { chownSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface Bouncer {
  readonly port: number;
  stop(): void;
}

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

/**
 * Starts Debian's PgBouncer (transaction pooling) in front of the test PostgreSQL, as the postgres
 * OS user (PgBouncer refuses to run as root), in a folder of its own.
 */
export async function startPgBouncer(poolSize = 20): Promise<Bouncer> {
  const dir = mkdtempSync(join(tmpdir(), 'vh-bouncer-'));
  const uid = Number(execFileSync('id', ['-u', 'postgres']).toString().trim());
  const gid = Number(execFileSync('id', ['-g', 'postgres']).toString().trim());
  chownSync(dir, uid, gid);
  const port = await freePort();
  writeFileSync(join(dir, 'userlist.txt'), '"postgres" ""\n');
  writeFileSync(join(dir, 'pgbouncer.ini'), `[databases]
* = host=127.0.0.1 port=5432

[pgbouncer]
listen_addr = 127.0.0.1
listen_port = ${port}
unix_socket_dir =
auth_type = trust
auth_file = ${dir}/userlist.txt
pool_mode = transaction
max_client_conn = 1000
default_pool_size = ${poolSize}
ignore_startup_parameters = extra_float_digits,options
logfile = ${dir}/pgbouncer.log
pidfile = ${dir}/pgbouncer.pid
`);
  for (const f of ['userlist.txt', 'pgbouncer.ini']) chownSync(join(dir, f), uid, gid);
  const r = spawnSync('runuser', ['-u', 'postgres', '--', 'pgbouncer', '-d', join(dir, 'pgbouncer.ini')], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`pgbouncer did not start: ${r.stderr}`);
  for (let i = 0; i < 100; i++) {
    try {
      readFileSync(join(dir, 'pgbouncer.pid'));
      break;
    } catch {
      await new Promise((res) => setTimeout(res, 50));
    }
  }
  return {
    port,
    stop() {
      try {
        process.kill(Number(readFileSync(join(dir, 'pgbouncer.pid'), 'utf8').trim()), 'SIGTERM');
      } catch { /* already gone */ }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
