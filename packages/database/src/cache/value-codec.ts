import { Decimal } from '@prisma/client/runtime/client';

/**
 * Tagged JSON for query results. Plain JSON loses Date, Decimal, BigInt, bytes, NaN, ±Infinity, -0
 * and `undefined`; each of those is written as `{"$$t": <tag>, "v": <text>}` and revived as the same
 * type Prisma returns (a `Prisma.Decimal` is revived as the runtime's `Decimal`, so `instanceof
 * Prisma.Decimal` holds). A Json column holding an object that happens to have a `$$t` key is
 * escaped, so user data can never be mistaken for a tag.
 */
const TAG = '$$t';

type Tagged = { [TAG]: string; v?: unknown };

/** Thrown for a value the codec cannot represent exactly (a Map, a class instance...). */
export class UnencodableValueError extends Error {
  constructor(what: string) {
    super(`cannot encode ${what} for the cache`);
    this.name = 'UnencodableValueError';
  }
}

/** Encodes a Prisma result to a string; `decodeValue(encodeValue(x))` is deep-equal to `x`, types included. */
export function encodeValue(value: unknown): string {
  return JSON.stringify(toJson(value));
}

/** Inverse of `encodeValue`. Every call returns fresh objects: callers may mutate what they get. */
export function decodeValue(text: string): unknown {
  return fromJson(JSON.parse(text));
}

function toJson(value: unknown): unknown {
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return value;
    case 'number':
      return Number.isFinite(value) && !Object.is(value, -0) ? value : { [TAG]: 'n', v: Object.is(value, -0) ? '-0' : String(value) };
    case 'bigint':
      return { [TAG]: 'B', v: value.toString() };
    case 'undefined':
      return { [TAG]: 'u' };
    case 'object':
      return value === null ? null : objectToJson(value);
    default:
      throw new UnencodableValueError(typeof value);
  }
}

function objectToJson(value: object): unknown {
  if (Array.isArray(value)) return value.map(toJson);
  if (value instanceof Date) return { [TAG]: 'D', v: value.getTime() };
  if (Decimal.isDecimal(value)) return { [TAG]: 'M', v: (value as Decimal).toString() };
  if (value instanceof Uint8Array) {
    const b64 = Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString('base64');
    return { [TAG]: Buffer.isBuffer(value) ? 'F' : 'U', v: b64 };
  }
  const proto = Object.getPrototypeOf(value) as unknown;
  if (proto !== Object.prototype && proto !== null) {
    throw new UnencodableValueError(`an instance of ${(value as { constructor?: { name?: string } }).constructor?.name ?? 'an unknown class'}`);
  }
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(value)) out[key] = toJson((value as Record<string, unknown>)[key]);
  return Object.prototype.hasOwnProperty.call(value, TAG) ? { [TAG]: 'o', v: out } : out;
}

function fromJson(json: unknown): unknown {
  if (json === null || typeof json !== 'object') return json;
  if (Array.isArray(json)) return json.map(fromJson);
  const tag = (json as Tagged)[TAG];
  if (tag !== undefined) return fromTagged(json as Tagged);
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(json)) out[key] = fromJson((json as Record<string, unknown>)[key]);
  return out;
}

function fromTagged({ [TAG]: tag, v }: Tagged): unknown {
  switch (tag) {
    case 'D':
      return new Date(v === null ? Number.NaN : (v as number));
    case 'M':
      return new Decimal(v as string);
    case 'B':
      return BigInt(v as string);
    case 'U':
      return new Uint8Array(Buffer.from(v as string, 'base64'));
    case 'F':
      return Buffer.from(v as string, 'base64');
    case 'n':
      return v === '-0' ? -0 : Number(v);
    case 'u':
      return undefined;
    case 'o': {
      // An escaped user object: its own keys are plain (not tags), its values are encoded as usual.
      const out: Record<string, unknown> = {};
      for (const key of Object.keys(v as object)) out[key] = fromJson((v as Record<string, unknown>)[key]);
      return out;
    }
    default:
      throw new Error(`cache entry has an unknown tag ${JSON.stringify(tag)}`);
  }
}
