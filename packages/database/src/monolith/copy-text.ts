/**
 * Encoders for PostgreSQL's COPY text format: fields separated by tabs, rows by newlines, `\N` for
 * NULL, and backslash, tab, newline and carriage return backslash-escaped inside a field.
 */

export const NULL = '\\N';

const NEEDS_ESCAPE = /[\\\t\n\r]/;

/** A text field. */
export function text(value: string): string {
  if (!NEEDS_ESCAPE.test(value)) return value;
  return value.replace(/[\\\t\n\r]/g, (c) => (c === '\\' ? '\\\\' : c === '\t' ? '\\t' : c === '\n' ? '\\n' : '\\r'));
}

/** A text field, or NULL. */
export function nullableText(value: string | null): string {
  return value === null ? NULL : text(value);
}

/** A json/jsonb field; `null` is SQL NULL, not JSON null. */
export function json(value: unknown): string {
  return value === null ? NULL : text(JSON.stringify(value));
}

/**
 * An array field (`text[]`, enum arrays): every element double-quoted, so commas, braces, quotes,
 * backslashes, blanks and the word NULL survive as plain element text.
 */
export function array(values: readonly string[] | null): string {
  if (values === null) return NULL;
  if (values.length === 0) return '{}';
  let s = '{';
  for (let i = 0; i < values.length; i++) {
    if (i > 0) s += ',';
    s += `"${(values[i] as string).replace(/["\\]/g, '\\$&')}"`;
  }
  return text(`${s}}`);
}

const DAY_MS = 86_400_000;
const TWO_DIGITS = Array.from({ length: 60 }, (_, n) => String(n).padStart(2, '0'));
const THREE_DIGITS = Array.from({ length: 1000 }, (_, n) => String(n).padStart(3, '0'));
let cachedDay = Number.NaN;
let cachedDate = '';

/**
 * A `timestamp(3)` (without time zone) field, from epoch milliseconds, in UTC wall-clock time.
 * Hand-rolled because Date#toISOString was the top item of the generator's profile; the date part
 * is cached since consecutive rows mostly fall on the same day.
 */
export function timestamp(ms: number): string {
  const t = Math.floor(ms);
  const day = Math.floor(t / DAY_MS);
  if (day !== cachedDay) {
    cachedDay = day;
    cachedDate = new Date(day * DAY_MS).toISOString().slice(0, 10);
  }
  const inDay = t - day * DAY_MS;
  const secs = Math.floor(inDay / 1000);
  return `${cachedDate} ${TWO_DIGITS[Math.floor(secs / 3600)]}:${TWO_DIGITS[Math.floor(secs / 60) % 60]}:${TWO_DIGITS[secs % 60]}.${THREE_DIGITS[inDay % 1000]}`;
}

/** A `timestamp(3)` field, or NULL. */
export function nullableTimestamp(ms: number | null): string {
  return ms === null ? NULL : timestamp(ms);
}

/** A numeric field (JS's shortest round-trip form, which PostgreSQL parses back exactly), or NULL. */
export function nullableNumber(value: number | null): string {
  return value === null ? NULL : String(value);
}

/** A boolean field. */
export function bool(value: boolean): string {
  return value ? 't' : 'f';
}

/** One COPY line from already-encoded fields. */
export function line(fields: readonly string[]): string {
  return `${fields.join('\t')}\n`;
}
