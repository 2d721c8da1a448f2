import { createHash } from 'node:crypto';
import { Decimal, isObjectEnumValue } from '@prisma/client/runtime/client';

/**
 * A stable, injective text for query arguments: two arguments get the same text only if they are
 * the same query. Object keys are sorted, `undefined` members dropped (Prisma ignores them too).
 * Strings are always JSON strings (they start with `"`); every other type has a form no other type
 * can take: numbers as JSON numbers (`-0`, `NaN`, `Infinity`, `-Infinity` spelled out), `12n` for a
 * BigInt, `D(<ms>)` for a Date, `M(<decimal>)` for a Decimal, `U(<base64>)` for bytes, `E(<name>)`
 * for Prisma's null enums, `undefined` in arrays. No form is a prefix of another, so a text read
 * left to right names exactly one value (test/cache-keys.test.ts checks it with fast-check).
 * Returns `undefined` for arguments that have no reliable text (functions, field references, class
 * instances): such a query is not cached rather than risk two different queries sharing a key.
 *
 * @example canonicalArgs({ where: { id: 1 }, select: { b: true, a: true } })
 *   // '{"select":{"a":true,"b":true},"where":{"id":1}}'
 */
export function canonicalArgs(value: unknown): string | undefined {
  try {
    return write(value);
  } catch (e) {
    if (e === UNKEYABLE) return undefined;
    throw e;
  }
}

/** Short, fixed-length digest of a canonical text, for Redis key names. */
export function digest(text: string): string {
  return createHash('sha1').update(text).digest('base64url');
}

const UNKEYABLE = Symbol('unkeyable');

function write(value: unknown): string {
  switch (typeof value) {
    case 'string':
      return JSON.stringify(value);
    case 'number':
      return Number.isFinite(value) ? (Object.is(value, -0) ? '-0' : JSON.stringify(value)) : String(value);
    case 'boolean':
      return value ? 'true' : 'false';
    case 'bigint':
      return `${value.toString()}n`;
    case 'object':
      return value === null ? 'null' : writeObject(value);
    default:
      throw UNKEYABLE;
  }
}

function writeObject(value: object): string {
  if (Array.isArray(value)) return `[${value.map((v) => (v === undefined ? 'undefined' : write(v))).join(',')}]`;
  if (value instanceof Date) return `D(${value.getTime()})`;
  if (Decimal.isDecimal(value)) return `M(${(value as Decimal).toString()})`;
  if (value instanceof Uint8Array) return `U(${Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString('base64')})`;
  if (isObjectEnumValue(value)) return `E(${(value as { _getName(): string })._getName()})`;
  const proto = Object.getPrototypeOf(value) as unknown;
  if (proto !== Object.prototype && proto !== null) throw UNKEYABLE;
  const parts: string[] = [];
  for (const key of Object.keys(value).sort()) {
    const v = (value as Record<string, unknown>)[key];
    if (v !== undefined) parts.push(`${JSON.stringify(key)}:${write(v)}`);
  }
  return `{${parts.join(',')}}`;
}
