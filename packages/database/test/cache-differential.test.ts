import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { describe, expect, it } from 'vitest';
import { createInventoryClient } from '../src/clients/inventory.client.ts';
import { createMachinesClient } from '../src/clients/machines.client.ts';
import { cacheTestDatabases, REDIS_URL } from './helpers/cache.ts';

// Issue 16: a randomized differential test. Several processes make random writes (nested, bulk,
// moves, cascades, raw SQL) and cached reads (includes, selects, _count, relation filters) at the
// same time; then, with every write acknowledged, each process compares every read shape through
// the cache with the same read without it. Any difference is a stale or wrong cached answer.
const { fresh } = cacheTestDatabases('cachediff', ['machines', 'inventory']);
const PROCESSES = 3;
const ROUNDS = Number(process.env.CACHE_DIFF_ROUNDS ?? 4);
const SEED = Number(process.env.CACHE_DIFF_SEED ?? Date.now() % 100_000);

class Child {
  readonly proc: ChildProcess;
  readonly #answers: ((v: unknown) => void)[] = [];
  constructor(args: string[]) {
    this.proc = spawn(process.execPath, ['--import', 'tsx', 'test/helpers/cache-differential-child.ts', ...args], { stdio: ['pipe', 'pipe', 'inherit'] });
    createInterface({ input: this.proc.stdout! }).on('line', (line) => this.#answers.shift()?.(JSON.parse(line)));
  }
  ask<T>(cmd: Record<string, unknown>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.#answers.push(resolve as (v: unknown) => void);
      this.proc.once('exit', (code) => reject(new Error(`child exited with ${code}`)));
      this.proc.stdin!.write(`${JSON.stringify(cmd)}\n`);
    });
  }
  async end(): Promise<void> {
    if (this.proc.exitCode !== null) return;
    const exited = new Promise((r) => this.proc.once('exit', r));
    this.proc.stdin!.end();
    await exited;
  }
}

describe('randomized differential: cached reads equal uncached reads once writes are acknowledged', () => {
  it(`${PROCESSES} processes, ${ROUNDS} rounds of concurrent random writes and reads, then a check (seed ${SEED})`, async () => {
    const { url, prefix } = await fresh();
    const env = { DATABASE_URL: url, REDIS_URL };
    const machines = createMachinesClient({ env });
    const inventory = createInventoryClient({ env });
    for (let i = 0; i < 4; i++) {
      await machines.location.create({ data: { name: `L${i}`, address: 'a', machines: { create: [0, 1, 2].map((j) => ({ code: `M${i}${j}`, serialNumber: `S${i}${j}`, type: 't', name: 'n', status: j === 0 ? ('ONLINE' as const) : ('OFFLINE' as const) })) } } });
      await inventory.inventoryItem.create({ data: { name: `I${i}`, sku: `K${i}`, unit: 'PCS', category: 'c' } });
    }
    const ms = await machines.machine.findMany({ select: { id: true } });
    const items = await inventory.inventoryItem.findMany({ select: { id: true } });
    await inventory.machineInventory.createMany({ data: ms.slice(0, 6).map((m, k) => ({ machineId: m.id, itemId: items[k % items.length]!.id, quantity: k })) });
    await machines.close();
    await inventory.close();

    const children = Array.from({ length: PROCESSES }, (_, i) => new Child([url, REDIS_URL, prefix, String(i)]));
    try {
      const started = performance.now();
      const mismatches: string[] = [];
      let reads = 0;
      let writes = 0;
      for (let round = 0; round < ROUNDS; round++) {
        const mixed = await Promise.all(children.map((c, i) => c.ask<{ done: { writes: number } }>({ op: 'mix', seed: SEED * 1000 + round * 10 + i, count: 10 })));
        writes += mixed.reduce((n, m) => n + m.done.writes, 0);
        const checks = await Promise.all(children.map((c, i) => c.ask<{ reads: number; mismatches: string[] }>({ op: 'check', seed: SEED * 1000 + round * 10 + i + 5 })));
        for (const c of checks) {
          reads += c.reads;
          mismatches.push(...c.mismatches.map((m) => `round ${round}: ${m}`));
        }
      }
      const stats = await Promise.all(children.map((c) => c.ask<{ stats: { hits: number; redisErrors: number; uncacheable: number }[] }>({ op: 'stats' })));
      const all = stats.flatMap((s) => s.stats);
      console.log(`differential: seed ${SEED}, ${writes} writes, ${reads} compared reads, ${((performance.now() - started) / 1000).toFixed(1)} s after the processes started`);
      expect(mismatches).toEqual([]);
      expect(writes).toBeGreaterThan(ROUNDS * 4);
      expect(reads).toBeGreaterThanOrEqual(ROUNDS * PROCESSES * 26);
      // The check really read through the cache: most of its cached reads were hits.
      expect(all.reduce((n, s) => n + s.hits, 0)).toBeGreaterThan(reads / 4);
      expect(all.reduce((n, s) => n + s.uncacheable, 0)).toBe(0);
    } finally {
      await Promise.all(children.map((c) => c.end()));
    }
  }, 180_000);
});
