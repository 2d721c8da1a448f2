import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Decimal, DbNull, JsonNull, AnyNull } from '@prisma/client/runtime/client';
import { canonicalArgs } from '../src/cache/canonical-args.ts';
import { CacheKeys } from '../src/cache/cache-keys.ts';
import { connectionIdentity } from '../src/cache/prisma-internals.ts';
import { readDependencies } from '../src/cache/read-dependencies.ts';
import { parseSchemaCatalog } from '../src/cache/schema-catalog.ts';

const catalogOf = (service: string) => parseSchemaCatalog(readFileSync(new URL(`../prisma/${service}/schema.prisma`, import.meta.url), 'utf8'));

/**
 * Values as Prisma arguments hold them, drawn from a small pool so that different values whose
 * texts could meet (a string spelling a Date marker, 1 vs 1n vs "1", null vs a null enum, -0 vs 0)
 * come up often.
 */
const markerLike = fc.constantFrom('#D0', '#M1', '#B1', '#EDbNull', '#U', 'D(0)', 'M(1)', '1n', 'E(DbNull)', 'U()', 'null', 'undefined', '1', '-0', 'NaN', '"', '","', '}', ':', '|');
const leaf = fc.oneof(
  markerLike,
  fc.string({ maxLength: 6 }),
  fc.constantFrom(0, -0, 1, 1.5, -1, Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY),
  fc.integer({ min: -3, max: 3 }).map((n) => BigInt(n)),
  fc.constantFrom(true, false, null),
  fc.integer({ min: -1, max: 2 }).map((n) => new Date(n)),
  fc.constantFrom('0', '1', '1.5', '-1').map((d) => new Decimal(d)),
  fc.uint8Array({ maxLength: 3 }),
  fc.constantFrom(DbNull, JsonNull, AnyNull),
);
const keyName = fc.constantFrom('a', 'b', 'where', 'id', '"', 'a,b', ':');
const value = fc.letrec<{ v: unknown }>((tie) => ({
  v: fc.oneof({ depthSize: 'small' }, leaf, fc.array(fc.oneof(tie('v'), fc.constant(undefined)), { maxLength: 3 }), fc.dictionary(keyName, tie('v'), { maxKeys: 3 })),
})).v;

/** Same query for Prisma: same types and values, object keys in any order, undefined members ignored. */
function sameQuery(a: unknown, b: unknown): boolean {
  if (typeof a !== typeof b) return false;
  if (typeof a === 'number') return Object.is(a, b);
  if (a === null || b === null || typeof a !== 'object') return a === b;
  if (a instanceof Date || b instanceof Date) return a instanceof Date && b instanceof Date && Object.is(a.getTime(), b.getTime());
  if (Decimal.isDecimal(a) || Decimal.isDecimal(b)) return Decimal.isDecimal(a) && Decimal.isDecimal(b) && (a as Decimal).equals(b as Decimal);
  if (a instanceof Uint8Array || b instanceof Uint8Array) return a instanceof Uint8Array && b instanceof Uint8Array && Buffer.from(a).equals(Buffer.from(b));
  if (a === DbNull || a === JsonNull || a === AnyNull || b === DbNull || b === JsonNull || b === AnyNull) return a === b;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (Array.isArray(a)) {
    const bb = b as unknown[];
    return a.length === bb.length && a.every((x, i) => (x === undefined || bb[i] === undefined ? x === bb[i] : sameQuery(x, bb[i])));
  }
  const ka = Object.keys(a as object).filter((k) => (a as Record<string, unknown>)[k] !== undefined).sort();
  const kb = Object.keys(b as object).filter((k) => (b as Record<string, unknown>)[k] !== undefined).sort();
  return ka.length === kb.length && ka.every((k, i) => k === kb[i] && sameQuery((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]));
}

describe('cache keys', () => {
  it('argument texts are injective: equal texts only for the same query (fast-check)', () => {
    fc.assert(
      fc.property(value, value, (a, b) => {
        const ta = canonicalArgs(a);
        const tb = canonicalArgs(b);
        if (ta !== undefined && ta === tb) expect(sameQuery(a, b)).toBe(true);
        if (sameQuery(a, b)) expect(ta).toBe(tb);
      }),
      { numRuns: 20_000 },
    );
  });

  it('a string never reads like a Date, Decimal, BigInt, bytes or a null enum', () => {
    const pairs: [unknown, unknown][] = [
      [new Date(0), '#D0'],
      [new Decimal(1), '#M1'],
      [1n, '#B1'],
      [DbNull, '#EDbNull'],
      [new Uint8Array([1]), '#UAQ=='],
      [Number.NaN, '#nNaN'],
      [-0, 0],
      [[undefined], [null]],
    ];
    for (const [x, y] of pairs) expect(canonicalArgs({ where: { v: x } }), `${String(y)}`).not.toBe(canonicalArgs({ where: { v: y } }));
  });

  it('an entry key with tags cannot be spelled by arguments without them', () => {
    const keys = new CacheKeys('p:', 'auth', 'h:1/db#s');
    const withTags = keys.entry('v', 'User', 'findMany', `${canonicalArgs({ where: { name: 'x' } })}|${canonicalArgs(['t'])}`);
    const spoof = keys.entry('v', 'User', 'findMany', canonicalArgs({ where: { name: 'x"}}|["t"]' } })!);
    expect(withTags).not.toBe(spoof);
  });

  it('keys carry the database: the same service in two databases shares no entry or generation key, but tags and the epoch', () => {
    const a = new CacheKeys('p:', 'auth', 'db1:5432/vendhub#auth_service');
    const b = new CacheKeys('p:', 'auth', 'db2:5432/vendhub#auth_service');
    expect(a.entry('v', 'User', 'findMany', '{}')).not.toBe(b.entry('v', 'User', 'findMany', '{}'));
    expect(a.list('User')).not.toBe(b.list('User'));
    expect(a.row('User', 'id=1')).not.toBe(b.row('User', 'id=1'));
    expect(a.tag('x')).toBe(b.tag('x'));
    expect(a.epoch).toBe(b.epoch);
    // The local tier tracks every database of the service.
    expect(a.generationPrefixes().every((p) => b.generationPrefixes().includes(p))).toBe(true);
    expect(connectionIdentity({ connectionString: 'postgresql://u:secret%40x@db.example:6432/app?sslmode=require' })).toBe('db.example:6432/app');
    expect(connectionIdentity({ host: 'h', port: 5433, database: 'd', password: 'secret' })).toBe('h:5433/d');
  });
});

describe('read dependencies come from what Prisma reads', () => {
  const tasks = catalogOf('tasks');
  const machines = catalogOf('machines');
  const deps = (c: ReturnType<typeof catalogOf>, m: string, args: Record<string, unknown>) => {
    const d = readDependencies(c, m, args);
    return d === undefined ? undefined : [...d].sort();
  };

  it('_count: true counts every list relation; include and select of relations, nested, with defaults', () => {
    expect(deps(tasks, 'Task', { include: { _count: true } })).toEqual(['TaskAction']);
    expect(deps(tasks, 'Task', { select: { id: true, _count: true } })).toEqual(['TaskAction']);
    expect(deps(machines, 'Location', { include: { _count: true } })).toEqual(['Machine']);
    expect(deps(machines, 'Machine', { include: { _count: true } })).toEqual(['MachineTelemetry', 'ServiceHistory']);
    expect(deps(machines, 'Machine', { include: { _count: { select: { serviceHistory: { where: { location: 'x' } } } } } })).toEqual(['ServiceHistory']);
    expect(deps(machines, 'Location', { include: { machines: { include: { _count: true } } } })).toEqual(['Machine', 'MachineTelemetry', 'ServiceHistory']);
    expect(deps(machines, 'ServiceHistory', { include: { machine: true } })).toEqual(['Machine']);
    expect(deps(machines, 'Location', { select: { machines: { select: { location: true } } } })).toEqual(['Machine']);
    expect(deps(tasks, 'TaskAction', { select: { id: true, task: { select: { _count: true } } } })).toEqual(['Task']);
  });

  it('relation filters, to-one shorthand and ordering by a relation', () => {
    expect(deps(machines, 'Machine', { where: { location: { isActive: true } } })).toEqual(['Location']);
    expect(deps(machines, 'Machine', { where: { location: { is: { name: 'x' } } } })).toEqual(['Location']);
    expect(deps(machines, 'Location', { where: { machines: { some: { serviceHistory: { none: {} } } } } })).toEqual(['Machine', 'ServiceHistory']);
    expect(deps(machines, 'Location', { where: { AND: [{ NOT: { machines: { every: { status: 'ONLINE' } } } }] } })).toEqual(['Machine']);
    expect(deps(machines, 'Location', { orderBy: { machines: { _count: 'desc' } } })).toEqual(['Machine']);
    expect(deps(machines, 'Machine', { orderBy: [{ location: { name: 'asc' } }] })).toEqual(['Location']);
    expect(deps(machines, 'Machine', { where: { id: 'x' }, select: { name: true, computedLabel: true } })).toEqual([]);
  });

  it('arguments it does not understand give no dependencies (the read is not cached)', () => {
    expect(deps(machines, 'Machine', { where: { nosuch: 1 } })).toBeUndefined();
    expect(deps(machines, 'Machine', { include: { nosuch: { where: {} } } })).toBeUndefined();
    expect(deps(machines, 'Machine', { frobnicate: true })).toBeUndefined();
    expect(deps(machines, 'Machine', { include: { _count: { select: { nosuch: true } } } })).toBeUndefined();
    expect(deps(machines, 'NoSuchModel', {})).toBeUndefined();
  });
});
