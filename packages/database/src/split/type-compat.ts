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
