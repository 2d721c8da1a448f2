import { readFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import pg from 'pg';
import { PrismaPg } from '@prisma/adapter-pg';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { Prisma, PrismaClient } from '../src/generated/auth/client.ts';
import { schemaPath } from '../src/paths.ts';
import { canonicalArgs } from '../src/cache/canonical-args.ts';
import { CircuitBreaker } from '../src/cache/circuit-breaker.ts';
import { QueryCache } from '../src/cache/query-cache.ts';
import { RedisCacheStore } from '../src/cache/redis-cache-store.ts';
import { parseSchemaCatalog } from '../src/cache/schema-catalog.ts';
import { decodeValue, encodeValue } from '../src/cache/value-codec.ts';
import { ADMIN_URL } from './helpers/pg.ts';

const REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

/** Deep equality that also compares classes: a Buffer is not a Uint8Array, a Decimal is not a string. */
function expectExact(actual: unknown, expected: unknown): void {
  expect(actual).toStrictEqual(expected);
  if (expected !== null && typeof expected === 'object') {
    expect(Object.getPrototypeOf(actual)).toBe(Object.getPrototypeOf(expected));
    for (const k of Object.keys(expected)) expectExact((actual as Record<string, unknown>)[k], (expected as Record<string, unknown>)[k]);
  }
}

describe('value codec', () => {
  const samples: Record<string, unknown> = {
    date: new Date('2026-11-28T10:11:12.345Z'),
    invalidDate: new Date(Number.NaN),
    decimal: new Prisma.Decimal('12345678901234567890.123456789012345678'),
    negativeDecimal: new Prisma.Decimal('-0.000000000000000000001'),
    bigint: 2n ** 63n - 1n,
    negativeBigint: -(2n ** 70n),
    bytes: new Uint8Array([0, 1, 2, 253, 254, 255]),
    buffer: Buffer.from('héllo wörld', 'utf8'),
    emptyBytes: new Uint8Array(0),
    nan: Number.NaN,
    infinity: Number.POSITIVE_INFINITY,
    negativeInfinity: Number.NEGATIVE_INFINITY,
    negativeZero: -0,
    json: { a: [1, 'two', null, true, { deep: { deeper: [1.5, -2, 'x'] } }], empty: {}, list: [] },
    jsonThatLooksLikeATag: { $$t: 'D', v: 0, nested: { $$t: 'o', v: { $$t: 'B' } } },
    nullValue: null,
    undefinedValue: undefined,
    unicode: 'ключ 🔑 \u0000 "quoted" \\',
    arrayOfDates: [new Date(0), new Date(8.64e15)],
    rowLike: {
      id: 'c1',
      roles: ['ADMIN', 'DRIVER'],
      createdAt: new Date(1_700_000_000_000),
      price: new Prisma.Decimal('9.99'),
      counter: 9007199254740993n,
      payload: new Uint8Array([7, 7, 7]),
      meta: { when: '2026-01-01', n: 1 },
    },
  };

  for (const [name, value] of Object.entries(samples)) {
    it(`round-trips ${name} exactly`, () => {
      const back = decodeValue(encodeValue(value));
      expectExact(back, value);
      if (Prisma.Decimal.isDecimal(value)) expect((back as Prisma.Decimal).equals(value)).toBe(true);
      if (value instanceof Date) expect(Object.is((back as Date).getTime(), value.getTime())).toBe(true);
      if (typeof value === 'number') expect(Object.is(back, value)).toBe(true);
    });
  }

  it('revives a Decimal as an instance of the generated client\'s Prisma.Decimal', () => {
    const back = decodeValue(encodeValue({ d: new Prisma.Decimal('1.5') })) as { d: unknown };
    expect(back.d).toBeInstanceOf(Prisma.Decimal);
  });

  it('gives every decode its own objects', () => {
    const text = encodeValue({ list: [{ a: 1 }] });
    const a = decodeValue(text) as { list: { a: number }[] };
    const b = decodeValue(text) as { list: { a: number }[] };
    a.list[0]!.a = 2;
    expect(b.list[0]!.a).toBe(1);
  });

  it('keeps a Json member named __proto__ a member, with tagged values under it revived', () => {
    const value = JSON.parse('{"meta":{"__proto__":{"polluted":true,"at":null},"list":[{"__proto__":1}]}}') as Record<string, unknown>;
    ((value.meta as Record<string, Record<string, unknown>>)['__proto__'] as Record<string, unknown>).at = new Date(5);
    const back = decodeValue(encodeValue(value)) as { meta: Record<string, unknown> };
    expect(Object.getPrototypeOf(back.meta)).toBe(Object.prototype);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    const inner = Object.getOwnPropertyDescriptor(back.meta, '__proto__')?.value as { polluted: boolean; at: Date };
    expect(inner.polluted).toBe(true);
    expect(inner.at).toEqual(new Date(5));
    expect(Object.keys(back.meta)).toEqual(['__proto__', 'list']);
  });

  it('refuses values it cannot represent instead of storing something else', () => {
    expect(() => encodeValue({ m: new Map() })).toThrow(/Map/);
    expect(() => encodeValue({ f: () => 1 })).toThrow(/function/);
  });
});

describe('canonical query arguments', () => {
  it('does not depend on key order and drops undefined members', () => {
    expect(canonicalArgs({ where: { id: 1, name: undefined }, select: { b: true, a: true } })).toBe(canonicalArgs({ select: { a: true, b: true }, where: { id: 1 } }));
  });

  it('tells apart values that JSON would merge', () => {
    const variants = [1, '1', 1n, new Prisma.Decimal(1), new Date(1), new Uint8Array([1]), Number.NaN, null, Prisma.DbNull, Prisma.JsonNull];
    const texts = variants.map((v) => canonicalArgs({ where: { x: v } }));
    expect(new Set(texts).size).toBe(variants.length);
  });

  it('returns undefined (do not cache) for arguments without a reliable text', () => {
    expect(canonicalArgs({ where: { f: () => 1 } })).toBeUndefined();
    expect(canonicalArgs({ where: { m: new Map() } })).toBeUndefined();
  });
});

describe('schema catalog', () => {
  it('reads unique keys, relations and dependents from the real service schemas', () => {
    const auth = parseSchemaCatalog(readFileSync(schemaPath('auth'), 'utf8'));
    const user = auth.models.get('User')!;
    expect(user.uniqueKeys).toEqual([
      { name: 'id', fields: ['id'] },
      { name: 'email', fields: ['email'] },
      { name: 'telegramId', fields: ['telegramId'] },
    ]);
    expect(user.relations.get('auditLogs')).toBe('AuditLog');
    expect(user.dependents).toEqual(['AuditLog']);
    expect(auth.models.get('AuditLog')!.relationKeys.get('user')).toEqual(['userId']);

    const inventory = parseSchemaCatalog(readFileSync(schemaPath('inventory'), 'utf8'));
    expect(inventory.models.get('MachineInventory')!.uniqueKeys).toEqual([
      { name: 'id', fields: ['id'] },
      { name: 'machineId_itemId', fields: ['machineId', 'itemId'] },
    ]);
    expect(inventory.models.get('InventoryItem')!.dependents).toEqual(['MachineInventory', 'StockMovement']);
    expect(inventory.models.get('MachineInventory')!.scalars.get('lastRefill')).toBe('DateTime');
  });

  it('versions by schema text, so a changed model changes every entry key', () => {
    const text = readFileSync(schemaPath('auth'), 'utf8');
    expect(parseSchemaCatalog(text).version).toMatch(/^[0-9a-f]{12}$/);
    expect(parseSchemaCatalog(text.replace('name         String', 'name         String?')).version).not.toBe(parseSchemaCatalog(text).version);
  });

  it('names compound keys as Prisma does, including explicit names', () => {
    const c = parseSchemaCatalog(`model A {\n  a Int\n  b String // comment with @unique\n  c Int @unique(map: "x")\n  @@id([a, b])\n  @@unique(fields: [b, c], name: "bc")\n}`);
    expect(c.models.get('A')!.uniqueKeys).toEqual([
      { name: 'a_b', fields: ['a', 'b'] },
      { name: 'c', fields: ['c'] },
      { name: 'bc', fields: ['b', 'c'] },
    ]);
  });
});

describe('circuit breaker', () => {
  it('opens after the threshold, lets one probe through after openMs, and closes on its success', () => {
    let now = 0;
    const b = new CircuitBreaker({ failureThreshold: 3, openMs: 100 }, () => now);
    for (let i = 0; i < 3; i++) {
      expect(b.tryAcquire()).toBe(true);
      b.failure();
    }
    expect(b.state).toBe('open');
    expect(b.tryAcquire()).toBe(false);
    now = 100;
    expect(b.state).toBe('half-open');
    expect(b.tryAcquire()).toBe(true);
    expect(b.tryAcquire()).toBe(false); // only one probe
    b.failure();
    expect(b.state).toBe('open');
    expect(b.opens).toBe(2);
    now = 200;
    expect(b.tryAcquire()).toBe(true);
    b.success();
    expect(b.state).toBe('closed');
    expect(b.tryAcquire()).toBe(true);
  });
});

describe('values Prisma produces, through Redis and back', () => {
  let redis: Redis;
  let pool: pg.Pool;
  let prisma: InstanceType<typeof PrismaClient>;
  const prefix = `test:codec:${randomBytes(4).toString('hex')}:`;

  beforeAll(() => {
    redis = new Redis(REDIS_URL);
    pool = new pg.Pool({ connectionString: ADMIN_URL, max: 2 });
    prisma = new PrismaClient({ adapter: new PrismaPg(pool) });
  });
  afterAll(async () => {
    const keys = await redis.keys(`${prefix}*`);
    if (keys.length > 0) await redis.del(...keys);
    redis.disconnect();
    await prisma.$disconnect();
    await pool.end();
  });

  it('stores and serves Decimal, BigInt, bytes, Json and timestamps exactly as Prisma returned them', async () => {
    const rows = await prisma.$queryRaw<Record<string, unknown>[]>`
      SELECT 12345678901234567890.000000000000000001::numeric AS dec, 9223372036854775807::bigint AS big,
             '\\x00ff10'::bytea AS bin, '{"a":{"b":[1,2,{"c":null}]},"$$t":"D"}'::jsonb AS doc,
             '2026-11-28T10:11:12.345Z'::timestamptz AS ts, 'NaN'::float8 AS nan, ARRAY[1.5::numeric, 2.25] AS decs`;
    const row = rows[0]!;
    expect(row.dec).toBeInstanceOf(Prisma.Decimal);
    expect(typeof row.big).toBe('bigint');
    expect(row.bin).toBeInstanceOf(Uint8Array);

    const cache = new QueryCache({
      service: 'codec', store: new RedisCacheStore(redis), offReason: '', seqKey: `${prefix}seq`, epochKey: `${prefix}epoch`,
      timeoutMs: 500, failureThreshold: 5, openMs: 1000, leaseMs: 1000, leaseWaitMs: 100, genTtlMs: 60_000, maxPending: 100,
    });
    const spec = { entryKey: `${prefix}e`, leaseKey: `${prefix}e:lease`, genKeys: [`${prefix}epoch`], ttlMs: 60_000, swrMs: 0 };
    const first = await cache.read(spec, async () => row);
    expect(first).toBe(row);
    await vi.waitFor(() => expect(cache.stats().fills).toBe(1)); // the fill runs after the caller got its answer
    let loads = 0;
    const second = await cache.read(spec, async () => {
      loads++;
      return {};
    });
    expect(loads).toBe(0);
    expect(cache.stats().hits).toBe(1);
    expectExact(second, row);
    await cache.close();
  });
});
