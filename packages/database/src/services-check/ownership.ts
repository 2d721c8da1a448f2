import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseSchemaCatalog, type ModelInfo } from '../cache/schema-catalog.ts';
import { PACKAGE_ROOT } from '../paths.ts';
import { SOFT_REFERENCES } from '../schema/soft-references.ts';

/** A relation field as the monolith declares it, with what the split made of it. */
export interface RelationInfo {
  readonly model: string;
  readonly field: string;
  readonly target: string;
  readonly list: boolean;
  /** The scalar fields on `model` holding the key (empty on the side without the key). */
  readonly keyFields: readonly string[];
  /** The fields on `target` the key references (`id`), or the back side's keys on the other model. */
  readonly references: readonly string[];
  /** True when the two models belong to different services: the relation no longer exists. */
  readonly crosses: boolean;
}

/** One table as raw SQL may name it: monolith name (`"AuditLog"`) or service name (`auth_service.audit_logs`). */
export interface TableName {
  readonly model: string;
  readonly service: string;
  readonly names: readonly string[];
}

/**
 * Who owns what after the split, read from the schema files: the service schemas
 * (`prisma/<service>/schema.prisma`) and the monolith's (`prisma/monolith/schema.prisma`). The
 * analyzer, the run-time guard and the cross-service read helper all ask this one object.
 */
export interface Ownership {
  readonly services: readonly string[];
  /** Model name → owning service (models of the monolith that no service has are absent). */
  readonly ownerOf: ReadonlyMap<string, string>;
  /** Client accessor (`auditLog`) → model name (`AuditLog`), over every schema. */
  readonly modelByAccessor: ReadonlyMap<string, string>;
  /** Every model's fields (service schema and monolith together): scalar names and relations. */
  fieldsOf(model: string): ModelFields | undefined;
  /** `Task.assignedToId` style soft references: scalar columns whose foreign key the split removed. */
  readonly softReferences: ReadonlyMap<string, { target: string; targetService: string }>;
  readonly tables: readonly TableName[];
}

/** A model's fields over the monolith and its service schema. */
export interface ModelFields {
  readonly scalars: ReadonlySet<string>;
  readonly relations: ReadonlyMap<string, RelationInfo>;
  /** Names of compound unique keys (`machineId_itemId`), valid as `where` keys. */
  readonly compoundKeys: ReadonlySet<string>;
}

export interface OwnershipSource {
  /** Folder holding `<service>/schema.prisma` and `monolith/schema.prisma`. Default: the package's prisma/. */
  prismaDir?: string;
}

/** `AuditLog` → `auditLog`, as Prisma names a model's delegate on the client. */
export const accessorOf = (model: string): string => model.charAt(0).toLowerCase() + model.slice(1);

const cache = new Map<string, Ownership>();

/**
 * Loads (once per folder) the ownership of every model.
 *
 * @example loadOwnership().ownerOf.get('AuditLog') // 'auth'
 */
export function loadOwnership(source: OwnershipSource = {}): Ownership {
  const dir = source.prismaDir ?? join(PACKAGE_ROOT, 'prisma');
  const hit = cache.get(dir);
  if (hit) return hit;
  const built = buildOwnership(dir);
  cache.set(dir, built);
  return built;
}

function buildOwnership(dir: string): Ownership {
  if (!existsSync(dir)) throw new Error(`no Prisma schema folder at ${dir}`);
  const services = readdirSync(dir, { withFileTypes: true })
    .filter((d) => d.isDirectory() && d.name !== 'monolith' && existsSync(join(dir, d.name, 'schema.prisma')))
    .map((d) => d.name)
    .sort();
  const ownerOf = new Map<string, string>();
  const serviceModels = new Map<string, ModelInfo>();
  const tables: TableName[] = [];
  for (const service of services) {
    const text = readFileSync(join(dir, service, 'schema.prisma'), 'utf8');
    const catalog = parseSchemaCatalog(text);
    const maps = tableMaps(text);
    const defaultSchema = /schemas\s*=\s*\[\s*"([^"]+)"/.exec(text)?.[1];
    for (const [name, info] of catalog.models) {
      ownerOf.set(name, service);
      serviceModels.set(name, info);
      const table = maps.get(name)?.table ?? name;
      const schema = maps.get(name)?.schema ?? defaultSchema;
      tables.push({ model: name, service, names: [...new Set([name, table, ...(schema ? [`${schema}.${table}`] : [])])] });
    }
  }
  const monolithPath = join(dir, 'monolith', 'schema.prisma');
  const monolithText = existsSync(monolithPath) ? readFileSync(monolithPath, 'utf8') : '';
  const monolith = parseSchemaCatalog(monolithText).models;
  const relationNames = new Map([...relationNamesOf(monolithText), ...services.flatMap((s) => [...relationNamesOf(readFileSync(join(dir, s, 'schema.prisma'), 'utf8'))])]);
  const lists = new Set([...listFields(monolithText), ...services.flatMap((s) => [...listFields(readFileSync(join(dir, s, 'schema.prisma'), 'utf8'))])]);
  const modelNames = new Set([...serviceModels.keys(), ...monolith.keys()]);
  const fields = new Map<string, { scalars: Set<string>; relations: Map<string, RelationInfo>; compoundKeys: Set<string> }>();
  for (const model of modelNames) {
    const entry = { scalars: new Set<string>(), relations: new Map<string, RelationInfo>(), compoundKeys: new Set<string>() };
    for (const info of [monolith.get(model), serviceModels.get(model)]) {
      if (!info) continue;
      for (const s of info.scalars.keys()) entry.scalars.add(s);
      for (const k of info.uniqueKeys) if (k.fields.length > 1) entry.compoundKeys.add(k.name);
      for (const [field, target] of info.relations) {
        const keyFields = info.relationKeys.get(field) ?? [];
        const from = ownerOf.get(model);
        const to = ownerOf.get(target);
        entry.relations.set(field, {
          model,
          field,
          target,
          list: lists.has(`${model}.${field}`),
          keyFields,
          references: [],
          crosses: from !== undefined && to !== undefined && from !== to,
        });
      }
    }
    fields.set(model, entry);
  }
  fillBackReferences(fields, relationNames);
  const softReferences = new Map<string, { target: string; targetService: string }>();
  for (const [model, entry] of fields) {
    for (const rel of entry.relations.values()) {
      if (!rel.crosses) continue;
      for (const key of rel.keyFields) softReferences.set(`${model}.${key}`, { target: rel.target, targetService: ownerOf.get(rel.target)! });
    }
  }
  for (const r of SOFT_REFERENCES) {
    if (ownerOf.get(r.from.model) === undefined) continue;
    softReferences.set(`${r.from.model}.${r.from.field}`, { target: r.to.model, targetService: ownerOf.get(r.to.model) ?? r.to.service });
  }
  const modelByAccessor = new Map([...modelNames].map((m) => [accessorOf(m), m] as const));
  return Object.freeze({
    services,
    ownerOf,
    modelByAccessor,
    fieldsOf: (model: string) => fields.get(model),
    softReferences,
    tables,
  });
}

/** For the side of a relation without the key (`User.assignedTasks`), the key lives on the other model. */
function fillBackReferences(fields: Map<string, { relations: Map<string, RelationInfo> }>, names: ReadonlyMap<string, string>): void {
  for (const entry of fields.values()) {
    for (const [name, rel] of entry.relations) {
      if (rel.keyFields.length > 0) {
        entry.relations.set(name, { ...rel, references: ['id'] });
        continue;
      }
      const relName = names.get(`${rel.model}.${rel.field}`);
      const back = [...(fields.get(rel.target)?.relations.values() ?? [])].find(
        (r) => r.target === rel.model && r.keyFields.length > 0 && names.get(`${r.model}.${r.field}`) === relName,
      );
      if (back) entry.relations.set(name, { ...rel, references: back.keyFields });
    }
  }
}

/** `Model.field` of every list (`Type[]`) field whose type is a model in the same text. */
function listFields(text: string): Set<string> {
  const out = new Set<string>();
  for (const m of text.matchAll(/^\s*model\s+(\w+)\s*\{([^}]*)\}/gm)) {
    for (const f of (m[2] as string).matchAll(/^\s*(\w+)\s+(\w+)\[\]/gm)) out.add(`${m[1]}.${f[1]}`);
  }
  return out;
}

/** `Model.field` → the relation's name (`@relation("TaskAssignee", …)`), for fields that have one. */
function relationNamesOf(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const m of text.matchAll(/^\s*model\s+(\w+)\s*\{([^}]*)\}/gm)) {
    for (const f of (m[2] as string).matchAll(/^\s*(\w+)\s+\w+.*@relation\(\s*(?:name\s*:\s*)?"([^"]+)"/gm)) out.set(`${m[1]}.${f[1]}`, f[2] as string);
  }
  return out;
}

/** Model → its `@@map` table and `@@schema`. */
function tableMaps(text: string): Map<string, { table?: string; schema?: string }> {
  const out = new Map<string, { table?: string; schema?: string }>();
  for (const m of text.matchAll(/^\s*model\s+(\w+)\s*\{([^}]*)\}/gm)) {
    const body = m[2] as string;
    const table = /@@map\(\s*"([^"]+)"\s*\)/.exec(body)?.[1];
    const schema = /@@schema\(\s*"([^"]+)"\s*\)/.exec(body)?.[1];
    out.set(m[1] as string, { ...(table ? { table } : {}), ...(schema ? { schema } : {}) });
  }
  return out;
}
