import { readFileSync } from 'node:fs';
import { schemaPath } from '../paths.ts';
import { SERVICE_INFO, SERVICES, type ServiceName } from '../services.ts';

/** A scalar field of a service model: its Prisma name (= monolith column) and database name. */
export interface TargetField {
  readonly name: string;
  readonly column: string;
  readonly type: string;
  readonly list: boolean;
  readonly optional: boolean;
  /** Source column when it differs from the field name (a `// vendhub-source: "<column>"` comment on the field's line). */
  readonly source?: string;
}

/** A service model as the service's schema.prisma declares it. */
export interface TargetModel {
  readonly service: ServiceName;
  /** Prisma model name: also the monolith's table name (Prisma's default naming). */
  readonly model: string;
  readonly schema: string;
  readonly table: string;
  readonly fields: readonly TargetField[];
  /** Source table when it differs from the model name (a `// vendhub-source: "<table>"` line in the model). */
  readonly source?: string;
}

/** The comment `split scaffold` writes where a model or field name differs from the source name. */
export const SOURCE_MARKER = 'vendhub-source:';
const MARKER_RE = /\/\/\s*vendhub-source:\s*("(?:[^"\\]|\\.)*")/;

/** The source name a `// vendhub-source: "..."` comment in `line` names, if any. */
export function sourceMarker(line: string): string | undefined {
  const m = line.match(MARKER_RE);
  return m ? (JSON.parse(m[1] as string) as string) : undefined;
}

const BLOCK = /^(model|enum|type|view)\s+(\w+)\s*\{([\s\S]*?)^\}/gm;

/**
 * Reads the models of a service's schema.prisma: the split derives its mapping from them (model and
 * field names match the monolith; `@@schema`, `@@map` and `@map` give the target). Relation fields
 * are skipped: they have no column.
 */
export function parseServiceSchema(service: ServiceName, text = readFileSync(schemaPath(service), 'utf8')): TargetModel[] {
  const blocks = [...text.matchAll(BLOCK)];
  const modelNames = new Set(blocks.filter((b) => b[1] === 'model').map((b) => b[2] as string));
  const models: TargetModel[] = [];
  for (const [, kind, name, body] of blocks) {
    if (kind !== 'model' || !name || body === undefined) continue;
    const raw = body.split('\n');
    const modelSource = raw.map((l) => (l.trim().startsWith('//') ? sourceMarker(l) : undefined)).find((v) => v !== undefined);
    const fieldSource = new Map<string, string>();
    for (const l of raw) {
      const t = l.trim();
      const src = t.startsWith('//') ? undefined : sourceMarker(t);
      const fname = t.match(/^(\w+)\s/)?.[1];
      if (src !== undefined && fname) fieldSource.set(fname, src);
    }
    const lines = raw.map((l) => l.replace(/\/\/.*$/, '').trim()).filter(Boolean);
    const attr = (re: RegExp) => lines.map((l) => l.match(re)?.[1]).find((v) => v !== undefined);
    const table = attr(/^@@map\(\s*"([^"]+)"\s*\)/) ?? name;
    const schema = attr(/^@@schema\(\s*"([^"]+)"\s*\)/) ?? SERVICE_INFO[service].schema;
    const fields: TargetField[] = [];
    for (const line of lines) {
      if (line.startsWith('@@')) continue;
      const m = line.match(/^(\w+)\s+(\w+)(\[\])?(\?)?(.*)$/);
      if (!m) continue;
      const [, fname, ftype, list, opt, rest] = m as unknown as [string, string, string, string | undefined, string | undefined, string];
      if (modelNames.has(ftype) || /@relation\b/.test(rest) && !/fields:/.test(rest)) continue;
      const source = fieldSource.get(fname);
      fields.push({ name: fname, column: rest.match(/@map\(\s*"([^"]+)"\s*\)/)?.[1] ?? fname, type: ftype, list: Boolean(list), optional: Boolean(opt), ...(source !== undefined ? { source } : {}) });
    }
    models.push({ service, model: name, schema, table, fields, ...(modelSource !== undefined ? { source: modelSource } : {}) });
  }
  return models;
}

/** Every service's models, in service order. */
export function allTargetModels(): TargetModel[] {
  return SERVICES.flatMap((s) => parseServiceSchema(s));
}
