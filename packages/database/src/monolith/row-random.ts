/**
 * Deterministic pseudo-randomness for generated rows: a value depends only on (seed, table salt,
 * row number, draw order), never on the clock, Math.random or the order tables are loaded in.
 * Row-keyed rather than one stream per table, so row i is the same whatever rows precede it.
 */

/** MurmurHash3's 32-bit finaliser: a cheap, well-mixing bijection on uint32. */
export function mix32(x: number): number {
  x ^= x >>> 16;
  x = Math.imul(x, 0x85ebca6b);
  x ^= x >>> 13;
  x = Math.imul(x, 0xc2b2ae35);
  x ^= x >>> 16;
  return x >>> 0;
}

/** FNV-1a of a string: turns a table name into a salt. */
export function salt(name: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < name.length; i++) h = Math.imul(h ^ name.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

/** Folds a safe-integer seed (up to 2^53) into 32 bits without dropping its high half. */
export function seedKey(seed: number): number {
  const lo = seed >>> 0;
  const hi = Math.floor(seed / 0x1_0000_0000) >>> 0;
  return mix32(lo ^ mix32(hi + 0x9e3779b9));
}

/** A mulberry32 generator re-keyed per row; `at(row)` rewinds it to that row's sequence. */
export class RowRandom {
  private readonly key: number;
  private state = 0;

  constructor(seed: number, tableSalt: number) {
    this.key = mix32(seedKey(seed) ^ tableSalt);
  }

  at(row: number): this {
    this.state = mix32(this.key + mix32(row + 0x6d2b79f5) + Math.floor(row / 0x1_0000_0000));
    return this;
  }

  /** Next uint32. */
  next(): number {
    let t = (this.state = (this.state + 0x6d2b79f5) >>> 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  }

  /** Uniform in [0, 1). */
  float(): number {
    return this.next() / 0x1_0000_0000;
  }

  /** Uniform integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.float() * n);
  }

  /** Uniform integer in [min, max]. */
  between(min: number, max: number): number {
    return min + this.int(max - min + 1);
  }

  /** Uniform in [min, max), rounded to `decimals` places. */
  amount(min: number, max: number, decimals = 2): number {
    const f = 10 ** decimals;
    return Math.round((min + this.float() * (max - min)) * f) / f;
  }

  chance(p: number): boolean {
    return this.float() < p;
  }

  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)] as T;
  }

  /** `n` random characters of `alphabet`. */
  chars(n: number, alphabet: string): string {
    let s = '';
    for (let i = 0; i < n; i++) s += alphabet[this.int(alphabet.length)];
    return s;
  }
}

export const BASE36 = '0123456789abcdefghijklmnopqrstuvwxyz';
export const HEX = '0123456789abcdef';
