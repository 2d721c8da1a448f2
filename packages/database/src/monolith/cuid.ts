import { BASE36, mix32, RowRandom, salt, seedKey } from './row-random.ts';

/**
 * Makes cuid()-shaped ids (25 chars: 'c' + 8 time + 4 counter + 4 fingerprint + 8 random, base36)
 * that are a pure function of (seed, namespace, row). The time block is `baseMs + row * stepMs`,
 * strictly increasing with the row, so ids never collide within a namespace and sort roughly by
 * creation like real cuids, which keeps primary-key b-tree inserts append-only and fast.
 *
 * @example const machineId = cuidFactory(42, 'Machine', Date.UTC(2025, 0, 1), 60_000); machineId(0)
 */
export function cuidFactory(seed: number, namespace: string, baseMs: number, stepMs: number): (row: number) => string {
  const r = new RowRandom(seed, salt(namespace));
  const fp = pad36(mix32(seedKey(seed) ^ salt(`fp:${namespace}`)) % 36 ** 4, 4);
  return (row) => `c${pad36(baseMs + row * stepMs, 8)}${pad36(row % 36 ** 4, 4)}${fp}${r.at(row).chars(8, BASE36)}`;
}

function pad36(n: number, width: number): string {
  const s = n.toString(36);
  if (s.length > width) throw new RangeError(`${n} does not fit in ${width} base-36 digits`);
  return s.padStart(width, '0');
}
