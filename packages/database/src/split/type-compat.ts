import type { ColumnInfo } from '../catalog/table-catalog.ts';

const TEXT = new Set(['text', 'varchar', 'bpchar', 'name', 'citext']);
const WIDENS: Record<string, readonly string[]> = {
  int2: ['int4', 'int8', 'numeric', 'float4', 'float8'],
  int4: ['int8', 'numeric', 'float8'],
  int8: ['numeric'],
  float4: ['float8', 'numeric'],
  float8: ['numeric'],
  numeric: ['float8'],
  json: ['jsonb'],
  jsonb: ['json'],
  timestamp: ['timestamptz'],
  timestamptz: ['timestamp'],
  date: ['timestamp', 'timestamptz'],
  uuid: ['text', 'varchar'],
  bool: [],
};

export type Compat = { ok: true; needsValueCheck: boolean } | { ok: false; reason: string };

/**
 * Whether values of a source column can be written into a target column through COPY's text
 * representation. Enums are compared by label separately (needsValueCheck), as is text → enum.
 */
export function compatible(src: Pick<ColumnInfo, 'baseType' | 'isArray' | 'enumLabels' | 'type'>, tgt: Pick<ColumnInfo, 'baseType' | 'isArray' | 'enumLabels' | 'type'>): Compat {
  if (src.isArray !== tgt.isArray) return { ok: false, reason: `${src.type} cannot become ${tgt.type} (array vs scalar)` };
  if (tgt.enumLabels) {
    if (src.enumLabels || TEXT.has(src.baseType)) return { ok: true, needsValueCheck: true };
    return { ok: false, reason: `${src.type} cannot become the enum ${tgt.type}` };
  }
  if (src.enumLabels) {
    return TEXT.has(tgt.baseType) ? { ok: true, needsValueCheck: false } : { ok: false, reason: `enum ${src.type} cannot become ${tgt.type}` };
  }
  if (src.baseType === tgt.baseType) return { ok: true, needsValueCheck: false };
  // Every type has a text form, and text takes it as it is.
  if (tgt.baseType === 'text') return { ok: true, needsValueCheck: false };
  if (TEXT.has(src.baseType) && TEXT.has(tgt.baseType)) return { ok: true, needsValueCheck: false };
  if (WIDENS[src.baseType]?.includes(tgt.baseType)) return { ok: true, needsValueCheck: false };
  return { ok: false, reason: `${src.type} cannot be cast to ${tgt.type}` };
}

/** What a column type can hold, read from its format_type() text: precision, scale, length. */
interface Capacity {
  readonly base: string;
  /** Fractional-second digits (time types), total digits (numeric), characters (varchar/bpchar). */
  readonly size: number | undefined;
  readonly scale: number | undefined;
}

function capacity(c: Pick<ColumnInfo, 'baseType' | 'type'>): Capacity {
  const mods = c.type.match(/\((\d+)(?:\s*,\s*(-?\d+))?\)/);
  const size = mods ? Number(mods[1]) : undefined;
  const scale = mods?.[2] !== undefined ? Number(mods[2]) : mods && c.baseType === 'numeric' ? 0 : undefined;
  return { base: c.baseType, size, scale };
}

const TIME_TYPES = new Set(['timestamp', 'timestamptz', 'time', 'timetz', 'interval']);
const LENGTH_TYPES = new Set(['varchar', 'bpchar']);

/**
 * Whether a mapping `compatible()` accepts can still change values on the way: fewer fractional
 * seconds, a smaller numeric precision or scale, a shorter character length, a time zone dropped,
 * a float made less precise. Returns why, or undefined when every source value arrives as it was.
 * Preflight counts the rows that actually change; verify compares such columns in the source type.
 *
 * @example narrowing({ baseType: 'timestamp', type: 'timestamp(6) without time zone' }, { baseType: 'timestamp', type: 'timestamp(3) without time zone' })
 *   // -> 'timestamp(6) without time zone → timestamp(3) without time zone keeps 3 fractional digits of 6'
 */
export function narrowing(src: Pick<ColumnInfo, 'baseType' | 'type' | 'enumLabels'>, tgt: Pick<ColumnInfo, 'baseType' | 'type' | 'enumLabels'>): string | undefined {
  if (src.enumLabels || tgt.enumLabels) return undefined;
  const s = capacity(src);
  const t = capacity(tgt);
  const arrow = `${src.type} → ${tgt.type}`;
  if (TIME_TYPES.has(s.base) && TIME_TYPES.has(t.base)) {
    if (s.base === 'timestamptz' && t.base === 'timestamp') return `${arrow} drops the time zone (values are converted at UTC)`;
    const sp = s.size ?? 6;
    const tp = t.size ?? 6;
    if (tp < sp) return `${arrow} keeps ${tp} fractional digit${tp === 1 ? '' : 's'} of ${sp}`;
    return undefined;
  }
  if (t.base === 'numeric' && t.size !== undefined) {
    if (s.base !== 'numeric' || s.size === undefined) return `${arrow} rounds to scale ${t.scale} and at most ${t.size} digits`;
    const sInt = s.size - (s.scale ?? 0);
    const tInt = t.size - (t.scale ?? 0);
    if ((t.scale ?? 0) < (s.scale ?? 0)) return `${arrow} rounds to scale ${t.scale} (from ${s.scale})`;
    if (tInt < sInt) return `${arrow} allows ${tInt} integer digits of ${sInt}`;
    return undefined;
  }
  if (LENGTH_TYPES.has(t.base) && t.size !== undefined) {
    const sLen = LENGTH_TYPES.has(s.base) ? s.size : undefined;
    if (sLen === undefined || t.size < sLen) return `${arrow} holds at most ${t.size} characters${sLen !== undefined ? ` of ${sLen}` : ''}`;
    return undefined;
  }
  if (s.base === 'numeric' && (t.base === 'float8' || t.base === 'float4')) return `${arrow} keeps ${t.base === 'float8' ? 15 : 6} significant digits and no scale`;
  if (s.base === 'float8' && t.base === 'float4') return `${arrow} keeps 6 significant digits`;
  return undefined;
}
