import { execFileSync } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { expect, vi } from 'vitest';

export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  await new Promise((r) => server.close(r));
  return port;
}

/** A redis-server of our own, on its own port, that the test may kill, pause and restart. */
export class OwnRedis {
  readonly pidFile: string;
  constructor(readonly port: number) {
    this.pidFile = join(tmpdir(), `vh-cache-redis-${port}.pid`);
  }
  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }
  /** `password`: started with `--requirepass` (the `default` user's password); the probe uses it. */
  async start(password?: string): Promise<void> {
    const auth = password === undefined ? [] : ['--requirepass', password];
    execFileSync('redis-server', ['--port', String(this.port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--daemonize', 'yes', '--pidfile', this.pidFile, '--dir', tmpdir(), ...auth]);
    const probe = new Redis({ host: '127.0.0.1', port: this.port, password, lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => 20 });
    probe.on('error', () => {});
    await vi.waitFor(() => probe.ping(), { timeout: 5_000, interval: 20 });
    probe.disconnect();
  }
  get pid(): number {
    return Number(readFileSync(this.pidFile, 'utf8').trim());
  }
  signal(sig: NodeJS.Signals): void {
    process.kill(this.pid, sig);
  }
  async kill(): Promise<void> {
    const pid = this.pid;
    process.kill(pid, 'SIGKILL');
    await vi.waitFor(() => expect(() => process.kill(pid, 0)).toThrow(), { timeout: 5_000, interval: 20 });
    rmSync(this.pidFile, { force: true });
  }
}

