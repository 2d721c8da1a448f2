import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runSplit } from './helpers/split-ops.ts';
import { runCli } from './helpers/cli.ts';
import { expectDistFresh } from './helpers/dist-fresh.ts';
import { freePort, OwnRedis } from './helpers/own-redis.ts';
import { buildGolden, sql, withSplitEnv, type Golden, type TopologyKind } from './helpers/split-fixture.ts';

// examples/services/: the same three Fastify services written against the monolith (before/: one
// shared client, includes and _count across services, a hand-rolled Redis cache invalidated by KEYS
// patterns) and moved onto the per-service clients (after/: attachRelated, the cache extension).
// Each runs as plain `node` child processes on free ports; the same requests, writes included, must
// get the same answers from the monolith and from both split layouts.
const EXAMPLES = fileURLToPath(new URL('../../../examples/services', import.meta.url));
const SERVICES = ['machines', 'tasks', 'auth'] as const;
type Service = (typeof SERVICES)[number];

interface Request {
  readonly service: Service;
  readonly method: 'GET' | 'PATCH';
  readonly path: string;
  readonly body?: Record<string, unknown>;
}
interface Exchange extends Request {
  readonly status: number;
  /** The body as sent, byte for byte. */
  readonly text: string;
  readonly response: unknown;
}

interface Running {
  readonly ports: Record<Service, number>;
  stop(): Promise<void>;
}

/** Starts one service with plain node; resolves with its port once it printed its start-up line. */
function startService(file: string, env: Record<string, string>): Promise<{ child: ChildProcess; port: number }> {
  const child = spawn(process.execPath, [file], { env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', PORT: '0', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (d) => (stderr += d));
  return new Promise((resolve, reject) => {
    const lines = createInterface({ input: child.stdout! });
    lines.once('line', (line) => resolve({ child, port: (JSON.parse(line) as { port: number }).port }));
    child.once('exit', (code) => reject(new Error(`${file} exited ${code} before listening:\n${stderr}`)));
  });
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  const t = setTimeout(() => child.kill('SIGKILL'), 5_000);
  await exited;
  clearTimeout(t);
}

async function startAll(variant: 'before' | 'after', env: Record<string, string>): Promise<Running> {
  const started = await Promise.allSettled(SERVICES.map((s) => startService(`${EXAMPLES}/${variant}/services/${s}/server.js`, env)));
  const children = started.flatMap((r) => (r.status === 'fulfilled' ? [r.value.child] : []));
  const stop = async () => void (await Promise.all(children.map(stopChild)));
  const failed = started.find((r) => r.status === 'rejected');
  if (failed) {
    await stop();
    throw (failed as PromiseRejectedResult).reason;
  }
  const ports = Object.fromEntries(SERVICES.map((s, i) => [s, (started[i] as PromiseFulfilledResult<{ port: number }>).value.port])) as Record<Service, number>;
  return { ports, stop };
}

/** Sends the requests in order, one at a time, and records status and parsed body. */
async function replay(variant: 'before' | 'after', env: Record<string, string>, requests: readonly Request[]): Promise<Exchange[]> {
  const running = await startAll(variant, env);
  try {
    const out: Exchange[] = [];
    for (const r of requests) {
      const res = await fetch(`http://127.0.0.1:${running.ports[r.service]}${r.path}`, {
        method: r.method,
        ...(r.body ? { body: JSON.stringify(r.body), headers: { 'content-type': 'application/json' } } : {}),
      });
      const text = await res.text();
      out.push({ ...r, status: res.status, text, response: JSON.parse(text) });
    }
    return out;
  } finally {
    await running.stop();
  }
}

/**
 * The fixed list: reads that fill each cache, then a write in each service followed by the reads of
 * the OTHER services that embed what it changed (they must not be served from a stale cache).
 */
async function requestList(golden: Golden): Promise<Request[]> {
  const src = await golden.clone('ids');
  try {
    // An ASSIGNED task on a machine with a location and at least two tasks, its assignee, a second task there.
    const [t] = await sql<{ id: string; machineId: string; userId: string; locationId: string }>(src.url, `
      SELECT t.id, t."machineId", t."assignedToId" AS "userId", m."locationId"
      FROM "Task" t JOIN "Machine" m ON m.id = t."machineId"
      WHERE t.status = 'ASSIGNED' AND t."assignedToId" IS NOT NULL AND m."locationId" IS NOT NULL
        AND (SELECT count(*) FROM "Task" o WHERE o."machineId" = t."machineId" AND o.status <> 'CANCELLED') >= 2
      ORDER BY t.id LIMIT 1`);
    if (!t) throw new Error('the generated monolith has no assigned task on a machine with two tasks; change the seed');
    const machine = `/machines/${t.machineId}`;
    const task = `/tasks/${t.id}`;
    const user = `/users/${t.userId}`;
    return [
      { service: 'machines', method: 'GET', path: machine },
      { service: 'tasks', method: 'GET', path: task },
      { service: 'auth', method: 'GET', path: user },
      { service: 'machines', method: 'GET', path: `/locations/${t.locationId}/machines` },
      { service: 'machines', method: 'GET', path: machine },
      { service: 'tasks', method: 'PATCH', path: task, body: { status: 'COMPLETED', actorId: t.userId } },
      { service: 'machines', method: 'GET', path: machine },
      { service: 'tasks', method: 'GET', path: task },
      { service: 'auth', method: 'PATCH', path: user, body: { name: 'Renamed Operator' } },
      { service: 'machines', method: 'GET', path: machine },
      { service: 'tasks', method: 'GET', path: task },
      { service: 'machines', method: 'PATCH', path: machine, body: { status: 'MAINTENANCE' } },
      { service: 'tasks', method: 'GET', path: task },
      { service: 'machines', method: 'GET', path: `/locations/${t.locationId}/machines` },
      { service: 'auth', method: 'GET', path: user },
      { service: 'machines', method: 'GET', path: '/machines/no-such-machine' },
      { service: 'tasks', method: 'GET', path: '/tasks/no-such-task' },
    ];
  } finally {
    await src.drop();
  }
}

describe('example services: services check on before/ and after/, as the README shows it', () => {
  /** The fenced block of the README that follows the line starting with `$ npx vendhub-db services check <dir>`. */
  const readmeBlock = (dir: string): string => {
    const text = readFileSync(`${EXAMPLES}/README.md`, 'utf8');
    const m = new RegExp(`\\$ npx vendhub-db services check ${dir} [^\\n]*\\n([\\s\\S]*?)\\n\`\`\``).exec(text);
    if (!m) throw new Error(`README.md has no \`services check ${dir}\` block`);
    return m[1]!;
  };

  it('before/: every cross-service call reported (exit 20), exactly the output the README shows', async () => {
    const r = await runCli(['services', 'check', `${EXAMPLES}/before`]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(20);
    expect(r.stdout.trimEnd()).toBe(readmeBlock('before'));
    expect(r.stdout).toMatch(/9 findings \(2 fixable/);
  });

  it('after/: nothing left (exit 0), as the README shows', async () => {
    const r = await runCli(['services', 'check', `${EXAMPLES}/after`]);
    expect(r.code).toBe(0);
    expect(r.stdout.trimEnd()).toBe(readmeBlock('after'));
  });
});

describe('example services: the same HTTP answers before and after the split', () => {
  let golden: Golden;
  let redis: OwnRedis;
  let requests: Request[];
  let baseline: Exchange[];

  beforeAll(async () => {
    expectDistFresh();
    redis = new OwnRedis(await freePort());
    await redis.start();
    golden = await buildGolden('exsvc', 0.1, 7, 0);
    requests = await requestList(golden);
    const src = await golden.clone('before');
    try {
      baseline = await replay('before', { MONOLITH_DATABASE_URL: src.url, REDIS_URL: redis.url, CACHE_PREFIX: 'before:' }, requests);
    } finally {
      await src.drop();
    }
  });
  afterAll(async () => {
    await golden?.drop();
    await redis?.kill();
  });

  it('before: the monolith services answer with the cross-service data, and each write shows in the other services\' cached reads', () => {
    const body = (i: number) => baseline[i]!.response as Record<string, any>;
    expect(baseline.map((e) => e.status)).toEqual([200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 404, 404]);
    const machine = body(0);
    expect(machine.tasks.length).toBeGreaterThanOrEqual(2);
    expect(machine.tasks.some((t: { assignedTo: { name?: string } | null }) => typeof t.assignedTo?.name === 'string')).toBe(true);
    expect(machine._count.tasks).toBeGreaterThanOrEqual(machine.tasks.length);
    expect(body(1).machine.location.name).toEqual(expect.any(String));
    expect(body(2)._count.assignedTasks).toBeGreaterThanOrEqual(1);
    expect(body(3).every((m: { _count: { tasks: number } }) => typeof m._count.tasks === 'number')).toBe(true);
    expect(body(4)).toEqual(machine); // a cache hit
    // tasks write → machines read: the task's status and the open count changed
    expect(body(6).tasks.find((t: { id: string }) => t.id === body(1).id).status).toBe('COMPLETED');
    expect(body(6).openTasks).toBe(machine.openTasks - 1);
    // auth write → machines and tasks reads show the new name
    expect(body(9).tasks.map((t: { assignedTo: { name: string } | null }) => t.assignedTo?.name)).toContain('Renamed Operator');
    expect(body(10).assignedTo.name).toBe('Renamed Operator');
    // machines write → tasks read
    expect(body(12).machine.status).toBe('MAINTENANCE');
  });

  for (const kind of ['shared', 'per-service'] as TopologyKind[]) {
    it(`after, ${kind === 'shared' ? 'option 1 (one database, a schema per service)' : 'option 2 (a database per service)'}: migrate + split run, then the same requests get the same answers`, async () => {
      await withSplitEnv(golden, kind, `exsvc_${kind === 'shared' ? 'o1' : 'o2'}`, async (env) => {
        const run = await runSplit(env, { chunkRows: 5_000 });
        expect(run.interrupted).toBe(false);
        const { SOURCE_DATABASE_URL: _source, ...serviceEnv } = env;
        const after = await replay('after', { ...serviceEnv, REDIS_URL: redis.url }, requests);
        // The parsed bodies first (a readable diff), then the bodies as sent: nothing is normalized,
        // not even the order of keys (attachRelated appends each key where the include had it).
        expect(after.map(({ text: _text, ...e }) => e)).toEqual(baseline.map(({ text: _text, ...e }) => e));
        for (const [i, e] of after.entries()) expect(e.text, `${e.method} ${e.path}`).toBe(baseline[i]!.text);
      });
    });
  }
});
