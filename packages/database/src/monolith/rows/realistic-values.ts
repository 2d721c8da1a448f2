import type { RowRandom } from '../row-random.ts';
import { CITIES, FIRST_NAMES, LAST_NAMES, PLACES, STREETS } from '../vocabulary.ts';

// Small builders shared by the row generators; each draws from the row's own generator.

/** e.g. «Каримов Бекзод»: surname first, as staff lists are written. */
export function fullName(r: RowRandom): string {
  return `${r.pick(LAST_NAMES)} ${r.pick(FIRST_NAMES)}`;
}

/** e.g. «Москва, ул. Тверская, д. 12, кв. 4» */
export function address(r: RowRandom): string {
  const flat = r.chance(0.3) ? `, офис ${r.between(1, 420)}` : '';
  return `${r.pick(CITIES)}, ${r.pick(STREETS)}, д. ${r.between(1, 180)}${flat}`;
}

/** A site name, e.g. «ТЦ «Самбил»». */
export function place(r: RowRandom): string {
  return r.pick(PLACES);
}

/** Uzbek or Russian mobile number in the formats people actually type. */
export function phone(r: RowRandom): string {
  return r.chance(0.5)
    ? `+998 9${r.between(0, 9)} ${r.between(100, 999)}-${r.between(10, 99)}-${r.between(10, 99)}`
    : `+7 (9${r.between(10, 99)}) ${r.between(100, 999)}-${r.between(10, 99)}-${r.between(10, 99)}`;
}

/** A Supabase Storage public URL in `bucket`. */
export function photoUrl(r: RowRandom, bucket: string): string {
  return `https://vendhub.supabase.co/storage/v1/object/public/${bucket}/${r.chars(12, 'abcdefghijklmnopqrstuvwxyz0123456789')}.jpg`;
}

/** Mostly IPv4, sometimes IPv6. */
export function ipAddress(r: RowRandom): string {
  return r.chance(0.85)
    ? `${r.between(10, 223)}.${r.int(256)}.${r.int(256)}.${r.between(1, 254)}`
    : `2a02:6b8:${r.int(65536).toString(16)}::${r.int(65536).toString(16)}`;
}

const NOISE = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';

/**
 * A diagnostic dump of about `bytes` characters of base64-like noise: noise on purpose, since
 * pglz does not compress it, so the stored value really exceeds the 8 kB TOAST threshold.
 */
export function diagnosticDump(r: RowRandom, bytes: number): { encoding: string; frames: string[] } {
  const frames: string[] = [];
  for (let size = 0; size < bytes; size += 256) frames.push(r.chars(256, NOISE));
  return { encoding: 'base64', frames };
}

/** Index `i` covers `values` in order for the first rows, then picks at random. */
export function covering<T>(values: readonly T[], i: number, r: RowRandom): T {
  return i < values.length ? (values[i] as T) : r.pick(values);
}
