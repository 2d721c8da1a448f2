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
  // A payload without tags is plain JSON; otherwise the parsed tree (fresh, nobody else holds it)
  // has its tagged members replaced where they are, without copying the untagged rest.
  const json: unknown = JSON.parse(text);
  return text.includes(TAG_TEXT) ? revive(json) : json;
}

const TAG_TEXT = '"$$t"';

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
  for (const key of Object.keys(value)) setOwn(out, key, toJson((value as Record<string, unknown>)[key]));
  return Object.prototype.hasOwnProperty.call(value, TAG) ? { [TAG]: 'o', v: out } : out;
}

/** Revives tagged members of a freshly parsed tree in place; returns the (possibly replaced) root. */
function revive(json: unknown): unknown {
  if (json === null || typeof json !== 'object') return json;
  if (Array.isArray(json)) {
    for (let i = 0; i < json.length; i++) {
      const v: unknown = json[i];
      if (v !== null && typeof v === 'object') json[i] = revive(v);
    }
    return json;
  }
  if ((json as Tagged)[TAG] !== undefined) return fromTagged(json as Tagged);
  const o = json as Record<string, unknown>;
  for (const key in o) {
    const v = o[key];
    if (v !== null && typeof v === 'object') setOwn(o, key, revive(v));
  }
  return o;
}

/** `o[key] = v`, except that a JSON member named `__proto__` stays a member (never the prototype). */
function setOwn(o: Record<string, unknown>, key: string, v: unknown): void {
  if (key === '__proto__') Object.defineProperty(o, key, { value: v, writable: true, enumerable: true, configurable: true });
  else o[key] = v;
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
      const out = v as Record<string, unknown>;
      for (const key in out) {
        const x = out[key];
        if (x !== null && typeof x === 'object') setOwn(out, key, revive(x));
      }
      return out;
    }
    default:
      throw new Error(`cache entry has an unknown tag ${JSON.stringify(tag)}`);
  }
}
