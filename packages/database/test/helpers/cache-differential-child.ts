/**
 * One process of the randomized differential test (test/cache-differential.test.ts): machines and
 * inventory service clients with the cache (the services' own policies), and plain clients without
 * it, on one database. Commands arrive as JSON lines on stdin; answers go out as JSON lines.
 *
 *   {"op":"mix","seed":n,"count":k}  k random writes and cached reads, 3 at a time → {"done":…}
 *   {"op":"check","seed":n}          every read shape through the cache (twice) and without it → {"mismatches":[…]}
 *
 *   node --import tsx test/helpers/cache-differential-child.ts <database url> <redis url> <key prefix> <process index>
 */
import { createInterface } from 'node:readline';
import pg from 'pg';
import { PrismaPg } from '@prisma/adapter-pg';
import { createInventoryClient } from '../../src/clients/inventory.client.ts';
import { createMachinesClient } from '../../src/clients/machines.client.ts';
import { encodeValue } from '../../src/cache/value-codec.ts';
import { PrismaClient as InventoryClient } from '../../src/generated/inventory/client.ts';
import { PrismaClient as MachinesClient } from '../../src/generated/machines/client.ts';

const [url, redisUrl, keyPrefix, index] = process.argv.slice(2) as [string, string, string, string];
const env = { DATABASE_URL: url, REDIS_URL: redisUrl };
const cache = { keyPrefix, timeoutMs: 2_000 };
const machines = createMachinesClient({ env, cache });
const inventory = createInventoryClient({ env, cache });
const pool = new pg.Pool({ connectionString: url, max: 4 });
const plainM = new MachinesClient({ adapter: new PrismaPg(pool, { schema: 'machines_service' }) });
const plainI = new InventoryClient({ adapter: new PrismaPg(pool, { schema: 'inventory_service' }) });

/** Deterministic per seed (mulberry32). */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface Ids {
  locations: string[];
  machines: { id: string; code: string }[];
  items: { id: string; sku: string }[];
  rows: { id: string; machineId: string }[];
}
async function ids(): Promise<Ids> {
  const [locations, ms, items, rows] = await Promise.all([
    plainM.location.findMany({ select: { id: true }, orderBy: { id: 'asc' } }),
    plainM.machine.findMany({ select: { id: true, code: true }, orderBy: { id: 'asc' } }),
    plainI.inventoryItem.findMany({ select: { id: true, sku: true }, orderBy: { id: 'asc' } }),
    plainI.machineInventory.findMany({ select: { id: true, machineId: true }, orderBy: { id: 'asc' } }),
  ]);
  return { locations: locations.map((l) => l.id), machines: ms, items, rows };
}

/** Both kinds of client are used through the cached clients' type (the plain ones simply never get `cache`). */
type Clients = { m: typeof machines; i: typeof inventory };
const cachedClients: Clients = { m: machines, i: inventory };
const plainClients = { m: plainM, i: plainI } as unknown as Clients;
type Read = (c: Clients, cached: boolean) => Promise<unknown>;

/** Read shapes: includes, selects, counts, relation filters, ordering by relations; ids drawn from `pick`. */
function reads(pick: <T>(xs: T[]) => T | undefined, s: Ids): [string, Read][] {
  const loc = pick(s.locations) ?? 'none';
  const m = pick(s.machines) ?? { id: 'none', code: 'none' };
  const item = pick(s.items) ?? { id: 'none', sku: 'none' };
  const c = (cached: boolean) => (cached ? { cache: true as const } : {});
  return [
    ['locations with _count', ({ m: db }, k) => db.location.findMany({ include: { _count: true }, orderBy: { id: 'asc' }, ...c(k) })],
    ['location with machines', ({ m: db }, k) => db.location.findUnique({ where: { id: loc }, include: { machines: { orderBy: { id: 'asc' } } }, ...c(k) })],
    ['machines at active locations', ({ m: db }, k) => db.machine.findMany({ where: { location: { isActive: true } }, select: { code: true, location: { select: { name: true } } }, orderBy: { id: 'asc' }, ...c(k) })],
    ['machine by code, _count and location', ({ m: db }, k) => db.machine.findUnique({ where: { code: m.code }, include: { _count: true, location: { include: { _count: true } } }, ...c(k) })],
    ['machines with history', ({ m: db }, k) => db.machine.count({ where: { serviceHistory: { some: {} } }, ...c(k) })],
    ['empty locations', ({ m: db }, k) => db.location.findMany({ where: { machines: { none: {} } }, select: { id: true }, orderBy: { id: 'asc' }, ...c(k) })],
    ['machines by telemetry count', ({ m: db }, k) => db.machine.findMany({ orderBy: [{ telemetry: { _count: 'desc' } }, { id: 'asc' }], select: { code: true, _count: { select: { telemetry: true } } }, ...c(k) })],
    ['history of online machines', ({ m: db }, k) => db.serviceHistory.findMany({ where: { machine: { status: 'ONLINE' } }, orderBy: { id: 'asc' }, ...c(k) })],
    ['first machine at location', ({ m: db }, k) => db.machine.findFirst({ where: { locationId: loc }, orderBy: { id: 'asc' }, select: { id: true, name: true, status: true }, ...c(k) })],
    ['machine inventory (tagged)', ({ i: db }, k) => db.machineInventory.findMany({ where: { machineId: m.id }, orderBy: { id: 'asc' }, ...(k ? { cache: { tags: [`machine:${m.id}:inventory`] } } : {}) })],
    ['item by sku with _count', ({ i: db }, k) => db.inventoryItem.findUnique({ where: { sku: item.sku }, include: { _count: true }, ...c(k) })],
    ['items stocked above 5', ({ i: db }, k) => db.inventoryItem.findMany({ where: { machineInventory: { some: { quantity: { gt: 5 } } } }, orderBy: { id: 'asc' }, select: { sku: true }, ...c(k) })],
    ['machines by id', ({ m: db }, k) => db.machine.findUnique({ where: { id: m.id }, select: { id: true, name: true, locationId: true, _count: true }, ...c(k) })],
  ];
}

let serial = 0;
const uniq = () => `${index}-${Date.now().toString(36)}-${serial++}`;

/** Writes: nested, bulk, moves, cascades, raw SQL; some fail on purpose-free constraints and are ignored. */
function writes(pick: <T>(xs: T[]) => T | undefined, r: () => number, s: Ids): (() => Promise<unknown>)[] {
  const loc = pick(s.locations);
  const loc2 = pick(s.locations);
  const m = pick(s.machines);
  const item = pick(s.items);
  const row = pick(s.rows);
  const q = Math.floor(r() * 10);
  const w: (() => Promise<unknown>)[] = [
    () => machines.location.create({ data: { name: `L${uniq()}`, address: 'a', isActive: r() < 0.7, machines: { create: [{ code: `C${uniq()}`, serialNumber: `S${uniq()}`, type: 't', name: 'n' }] } } }),
    () => machines.machine.create({ data: { code: `C${uniq()}`, serialNumber: `S${uniq()}`, type: 't', name: 'n', ...(loc ? { location: { connect: { id: loc } } } : {}) } }),
  ];
  if (m) {
    w.push(
      () => machines.machine.update({ where: { id: m.id }, data: { locationId: loc2 ?? null }, select: { id: true } }),
      () => machines.machine.update({ where: { code: m.code }, data: { status: r() < 0.5 ? 'ONLINE' : 'OFFLINE', name: `n${q}` } }),
      () => machines.serviceHistory.create({ data: { machineId: m.id, serviceType: 's', description: 'd', performedById: 'u' } }),
      () => machines.machineTelemetry.createMany({ data: [{ machineId: m.id, rawData: {} }, { machineId: m.id, rawData: { q } }] }),
      () => machines.machineTelemetry.deleteMany({ where: { machineId: m.id } }),
      () => machines.machine.delete({ where: { id: m.id } }),
      () => machines.$executeRaw`UPDATE machines_service.machines SET name = ${`raw${q}`}, status = 'ONLINE' WHERE id = ${m.id}`,
      () => machines.machine.upsert({ where: { code: m.code }, update: { name: `u${q}` }, create: { code: m.code, serialNumber: `S${uniq()}`, type: 't', name: 'n' } }),
      () => inventory.machineInventory.create({ data: { machineId: m.id, itemId: item?.id ?? 'none', quantity: q } }),
    );
  }
  if (loc && loc2) {
    w.push(
      () => machines.machine.updateMany({ where: { locationId: loc }, data: { locationId: loc2 } }),
      () => machines.location.update({ where: { id: loc }, data: { isActive: r() < 0.5, machines: { updateMany: { where: {}, data: { status: 'MAINTENANCE' } } } } }),
      () => machines.location.delete({ where: { id: loc } }),
    );
  }
  if (row) {
    w.push(
      () => inventory.machineInventory.update({ where: { id: row.id }, data: { machineId: m?.id ?? row.machineId, quantity: q }, select: { quantity: true } }),
      () => inventory.machineInventory.updateMany({ where: { machineId: row.machineId }, data: { quantity: { increment: 3 } } }),
      () => inventory.machineInventory.deleteMany({ where: { machineId: row.machineId, quantity: { lt: 3 } } }),
    );
  }
  w.push(() => inventory.inventoryItem.create({ data: { name: 'i', sku: `K${uniq()}`, unit: 'PCS', category: 'c' } }));
  if (item) w.push(() => inventory.inventoryItem.update({ where: { sku: item.sku }, data: { isActive: r() < 0.5, quantity: q } }));
  return w;
}

async function mix(seed: number, count: number): Promise<{ writes: number; failed: number }> {
  const r = rng(seed);
  const pick = <T>(xs: T[]) => (xs.length === 0 ? undefined : xs[Math.floor(r() * xs.length)]);
  let done = 0;
  let failed = 0;
  let next = 0;
  const worker = async () => {
    let s = await ids();
    for (let mine = 0; next++ < count; mine++) {
      // Fresh ids now and then (a few may be stale: writes to them fail or match nothing, which is fine).
      if (mine % 3 === 2) s = await ids();
      if (r() < 0.5) {
        const ws = writes(pick, r, s);
        try {
          await pick(ws)!();
          done++;
        } catch {
          failed++; // a constraint (unique code, history referencing a machine, a deleted row): not a cache matter
        }
      } else {
        const [, read] = pick(reads(pick, s))!;
        await read(cachedClients, true);
      }
    }
  };
  await Promise.all([worker(), worker(), worker()]);
  return { writes: done, failed };
}

async function check(seed: number): Promise<{ reads: number; mismatches: string[] }> {
  const r = rng(seed);
  const pick = <T>(xs: T[]) => (xs.length === 0 ? undefined : xs[Math.floor(r() * xs.length)]);
  const mismatches: string[] = [];
  let n = 0;
  for (let round = 0; round < 1; round++) {
    for (const [name, read] of reads(pick, await ids())) {
      for (let i = 0; i < 2; i++) {
        const cached = encodeValue(await read(cachedClients, true));
        const fresh = encodeValue(await read(plainClients, false));
        n++;
        if (cached !== fresh) {
          let at = 0;
          while (cached[at] === fresh[at]) at++;
          const around = (t: string) => t.slice(Math.max(0, at - 120), at + 120);
          mismatches.push(`${name} (differs at ${at}): cached …${around(cached)}… != database …${around(fresh)}…`);
        }
      }
    }
  }
  return { reads: n, mismatches };
}

const out = (v: unknown) => process.stdout.write(`${JSON.stringify(v)}\n`);
for await (const line of createInterface({ input: process.stdin })) {
  const cmd = JSON.parse(line) as { op: string; seed: number; count?: number };
  if (cmd.op === 'mix') out({ done: await mix(cmd.seed, cmd.count ?? 10) });
  else if (cmd.op === 'check') out(await check(cmd.seed));
  else if (cmd.op === 'stats') out({ stats: [machines.$cache.stats(), inventory.$cache.stats()] });
  else break;
}
await machines.close();
await inventory.close();
await plainM.$disconnect();
await plainI.$disconnect();
await pool.end();
