import { execFileSync } from 'node:child_process';
import { chmodSync, chownSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { buildMonolith } from '../../src/monolith/build-monolith.ts';

const BIN = '/usr/lib/postgresql/15/bin';

/**
 * The superuser password of every cluster the tests start: URL-special characters (`@`, `%`, `:`,
 * `/`, `#`, `?`) so that any code path that mangles, loses or prints it shows up in a test.
 */
export const CLUSTER_PASSWORD = 'p@ss%w:rd/#?&x';

export interface ClusterOptions {
  /** Accept TLS connections only (`hostssl`), with a CA and server certificate made here by openssl. */
  readonly tls?: boolean;
}

export interface UrlOptions {
  readonly user?: string;
  readonly password?: string;
  /** TLS clusters: `verify-full` (default, with the test CA as sslrootcert) or `require`. */
  readonly sslmode?: 'require' | 'verify-full' | 'verify-ca' | 'disable';
  /** TLS clusters: a root certificate file other than the cluster's own CA. */
  readonly sslrootcert?: string;
  /** Host name to put in the URL (default 127.0.0.1, which the certificate names). */
  readonly host?: string;
}

/** A private PostgreSQL 15 cluster with wal_level=logical, scram-sha-256 passwords, optionally TLS only. */
export interface LogicalCluster {
  readonly port: number;
  readonly dir: string;
  readonly password: string;
  /** TLS clusters: the CA certificate file (PEM) that signed the server certificate. */
  readonly caFile: string | undefined;
  /** TLS clusters: a CA that did not sign the server certificate (for "wrong CA" tests). */
  readonly otherCaFile: string | undefined;
  url(database: string, user?: string, opts?: UrlOptions): string;
  query<R extends pg.QueryResultRow = pg.QueryResultRow>(sql: string, params?: unknown[], database?: string): Promise<R[]>;
  /** A new empty database (name returned), dropped by `stop()` with the cluster. */
  createDatabase(prefix: string, template?: string): Promise<string>;
  stop(): Promise<void>;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
    s.on('error', reject);
  });
}

/** A CA, a server certificate for 127.0.0.1 only (so `localhost` is a wrong host name) signed by it, and an unrelated second CA. */
function makeCertificates(dir: string): { ca: string; otherCa: string; cert: string; key: string } {
  const ssl = (args: string[]) => execFileSync('openssl', args, { stdio: 'pipe', cwd: dir });
  const f = (n: string) => join(dir, n);
  for (const name of ['ca', 'other-ca']) {
    ssl(['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '2', '-subj', `/CN=vendhub test ${name}`, '-keyout', f(`${name}.key`), '-out', f(`${name}.crt`)]);
  }
  ssl(['req', '-newkey', 'rsa:2048', '-nodes', '-subj', '/CN=127.0.0.1', '-keyout', f('server.key'), '-out', f('server.csr')]);
  writeFileSync(f('san.ext'), 'subjectAltName=IP:127.0.0.1\n');
  ssl(['x509', '-req', '-in', f('server.csr'), '-CA', f('ca.crt'), '-CAkey', f('ca.key'), '-CAcreateserial', '-days', '2', '-extfile', f('san.ext'), '-out', f('server.crt')]);
  chmodSync(f('server.key'), 0o600);
  return { ca: f('ca.crt'), otherCa: f('other-ca.crt'), cert: f('server.crt'), key: f('server.key') };
}

/**
 * initdb + pg_ctl start as the `postgres` OS user (PostgreSQL refuses root) on a free port, with
 * scram-sha-256 authentication and `CLUSTER_PASSWORD` for every TCP connection (no trust: real
 * servers always want a password). With `{ tls: true }` only TLS connections are accepted. One per
 * test file; `stop()` shuts it down and removes its directory.
 */
export async function startLogicalCluster(opts: ClusterOptions = {}): Promise<LogicalCluster> {
  const dir = mkdtempSync(join(tmpdir(), 'vh-logical-'));
  const uid = Number(execFileSync('id', ['-u', 'postgres']).toString().trim());
  const gid = Number(execFileSync('id', ['-g', 'postgres']).toString().trim());
  chownSync(dir, uid, gid);
  const data = join(dir, 'data');
  const port = await freePort();
  const asPostgres = (cmd: string, args: string[]) => execFileSync('runuser', ['-u', 'postgres', '--', join(BIN, cmd), ...args], { stdio: 'pipe' });
  const pwfile = join(dir, 'pwfile');
  writeFileSync(pwfile, `${CLUSTER_PASSWORD}\n`, { mode: 0o600 });
  chownSync(pwfile, uid, gid);
  asPostgres('initdb', ['-D', data, '-U', 'postgres', '--auth=scram-sha-256', `--pwfile=${pwfile}`, '-E', 'UTF8', '--no-sync']);
  rmSync(pwfile);
  const host = opts.tls ? 'hostssl' : 'host';
  writeFileSync(join(data, 'pg_hba.conf'), [
    'local all all scram-sha-256',
    `${host} all all 127.0.0.1/32 scram-sha-256`,
    `${host} replication all 127.0.0.1/32 scram-sha-256`,
    '',
  ].join('\n'));
  let certs: ReturnType<typeof makeCertificates> | undefined;
  let sslFlags = '';
  if (opts.tls) {
    const certDir = join(dir, 'certs');
    mkdirSync(certDir);
    certs = makeCertificates(certDir);
    execFileSync('chown', ['-R', `${uid}:${gid}`, certDir]);
    sslFlags = ` -c ssl=on -c ssl_cert_file=${certs.cert} -c ssl_key_file=${certs.key}`;
  }
  asPostgres('pg_ctl', ['-D', data, '-l', join(dir, 'log'), '-w', '-o',
    `-p ${port} -c listen_addresses=127.0.0.1 -c wal_level=logical -c max_replication_slots=20 -c max_wal_senders=20 -c unix_socket_directories=${dir} -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200${sslFlags}`, 'start']);
  const url = (database: string, user = 'postgres', u: UrlOptions = {}) => {
    const pw = encodeURIComponent(u.password ?? (user === 'postgres' ? CLUSTER_PASSWORD : ''));
    const auth = pw ? `${encodeURIComponent(user)}:${pw}` : encodeURIComponent(user);
    const base = `postgresql://${auth}@${u.host ?? '127.0.0.1'}:${port}/${database}`;
    if (!certs) return u.sslmode ? `${base}?sslmode=${u.sslmode}` : base;
    const mode = u.sslmode ?? 'verify-full';
    return mode === 'require' || mode === 'disable' ? `${base}?sslmode=${mode}` : `${base}?sslmode=${mode}&sslrootcert=${encodeURIComponent(u.sslrootcert ?? certs.ca)}`;
  };
  const clientConfig = (database: string): pg.ClientConfig => ({
    host: '127.0.0.1', port, database, user: 'postgres', password: CLUSTER_PASSWORD,
    ssl: certs ? { ca: readFileSync(certs.ca, 'utf8') } : false,
  });
  const query = async <R extends pg.QueryResultRow>(sql: string, params: unknown[] = [], database = 'postgres') => {
    const c = new pg.Client(clientConfig(database));
    await c.connect();
    try {
      return (await c.query<R>(sql, params)).rows;
    } finally {
      await c.end();
    }
  };
  let stopped = false;
  return {
    port, dir, url, query,
    password: CLUSTER_PASSWORD,
    caFile: certs?.ca,
    otherCaFile: certs?.otherCa,
    async createDatabase(prefix, template) {
      const name = `${prefix}_${Math.random().toString(36).slice(2, 8)}`;
      await query(`CREATE DATABASE "${name}"${template ? ` TEMPLATE "${template}"` : ''}`);
      return name;
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      try {
        asPostgres('pg_ctl', ['-D', data, '-m', 'immediate', '-w', 'stop']);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  };
}

/**
 * A logical cluster whose database `gold` holds a generated monolith (`seed`, `scale`): the follow
 * tests clone it per case with `cluster.createDatabase(name, golden)`.
 */
export async function startGoldenCluster(seed: number, scale = 1): Promise<{ cluster: LogicalCluster; golden: string }> {
  const cluster = await startLogicalCluster();
  const golden = await cluster.createDatabase('gold');
  await buildMonolith(cluster.url(golden), { scale, seed, danglingTransactions: 0 });
  return { cluster, golden };
}
