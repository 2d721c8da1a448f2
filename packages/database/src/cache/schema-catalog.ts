import { createHash } from 'node:crypto';

/** A unique key as Prisma's `WhereUniqueInput` names it: `id`, `email`, or `machineId_itemId`. */
export interface UniqueKey {
  readonly name: string;
  readonly fields: readonly string[];
}

export interface ModelInfo {
  readonly name: string;
  /** Scalar and enum fields, with their Prisma type (`String`, `BigInt`, `DateTime`, an enum name...). */
  readonly scalars: ReadonlyMap<string, string>;
  /** Relation field name → the related model. */
  readonly relations: ReadonlyMap<string, string>;
  /** Relation fields that are lists (`actions TaskAction[]`): what `_count: true` counts. */
  readonly listRelations: ReadonlySet<string>;
  /** Relation field name → the scalar foreign-key fields it sets (only on the side that holds the key). */
  readonly relationKeys: ReadonlyMap<string, readonly string[]>;
  /** @id / @@id first, then @unique / @@unique, in schema order. */
  readonly uniqueKeys: readonly UniqueKey[];
  /** Models holding a foreign key to this one: deleting or re-keying a row here can change theirs. */
  readonly dependents: readonly string[];
  /** Fields of this model that other models reference; changing one cascades to the dependents. */
  readonly referencedFields: ReadonlySet<string>;
}

/** What the cache needs to know about a service's models, read from its schema.prisma. */
export interface SchemaCatalog {
  /** Short hash of the schema text: part of every cache key, so a changed schema never reads old shapes. */
  readonly version: string;
  readonly models: ReadonlyMap<string, ModelInfo>;
}

interface RawModel {
  name: string;
  scalars: Map<string, string>;
  relations: Map<string, string>;
  listRelations: Set<string>;
  relationKeys: Map<string, string[]>;
  references: { target: string; fields: string[] }[];
  uniqueKeys: UniqueKey[];
}

/**
 * Parses the parts of a Prisma schema the cache relies on: models, their unique keys (for precise
 * invalidation) and relations (for reads that include related rows and for cascades). It is not a
 * validator: `prisma generate` has already accepted the schema.
 *
 * @example parseSchemaCatalog(readFileSync(schemaPath('auth'), 'utf8')).models.get('User')?.uniqueKeys
 *   // [{ name: 'id', fields: ['id'] }, { name: 'email', fields: ['email'] }, { name: 'telegramId', ... }]
 */
export function parseSchemaCatalog(schema: string): SchemaCatalog {
  const text = stripComments(schema);
  const modelNames = new Set([...text.matchAll(/^\s*model\s+(\w+)\s*\{/gm)].map((m) => m[1] as string));
  const raws: RawModel[] = [];
  for (const m of text.matchAll(/^\s*model\s+(\w+)\s*\{([^}]*)\}/gm)) {
    raws.push(parseModel(m[1] as string, m[2] as string, modelNames));
  }
  const dependents = new Map<string, Set<string>>();
  const referenced = new Map<string, Set<string>>();
  for (const raw of raws) {
    for (const ref of raw.references) {
      (dependents.get(ref.target) ?? dependents.set(ref.target, new Set()).get(ref.target)!).add(raw.name);
      const fields = referenced.get(ref.target) ?? referenced.set(ref.target, new Set()).get(ref.target)!;
      for (const f of ref.fields) fields.add(f);
    }
  }
  const models = new Map<string, ModelInfo>();
  for (const raw of raws) {
    models.set(
      raw.name,
      Object.freeze({
        name: raw.name,
        scalars: raw.scalars,
        relations: raw.relations,
        listRelations: raw.listRelations,
        relationKeys: raw.relationKeys,
        uniqueKeys: Object.freeze(raw.uniqueKeys),
        dependents: Object.freeze([...(dependents.get(raw.name) ?? [])].sort()),
        referencedFields: referenced.get(raw.name) ?? new Set<string>(),
      }),
    );
  }
  return Object.freeze({ version: schemaVersionOf(schema), models });
}

/** The default schema version: 12 hex digits of the schema text's SHA-256. */
export function schemaVersionOf(schema: string): string {
  return createHash('sha256').update(schema).digest('hex').slice(0, 12);
}

function parseModel(name: string, body: string, modelNames: ReadonlySet<string>): RawModel {
  const raw: RawModel = { name, scalars: new Map(), relations: new Map(), listRelations: new Set(), relationKeys: new Map(), references: [], uniqueKeys: [] };
  const singles: UniqueKey[] = [];
  let id: UniqueKey | undefined;
  const compounds: UniqueKey[] = [];
  for (const line of body.split('\n').map((l) => l.trim()).filter(Boolean)) {
    if (line.startsWith('@@')) {
      const block = /^@@(id|unique)\s*\((.*)\)\s*$/.exec(line);
      if (!block) continue;
      const key = compoundKey(block[2] as string);
      if (!key) continue;
      if (block[1] === 'id') id = key;
      else compounds.push(key);
      continue;
    }
    const field = /^(\w+)\s+(\w+)(\[\])?(\?)?(.*)$/.exec(line);
    if (!field) continue;
    const [, fieldName, type, list, , attrs] = field as unknown as [string, string, string, string | undefined, string | undefined, string];
    if (modelNames.has(type)) {
      raw.relations.set(fieldName, type);
      if (list) raw.listRelations.add(fieldName);
      const rel = /@relation\s*\(([^)]*)\)/.exec(attrs);
      const fields = rel ? listArg(rel[1] as string, 'fields') : undefined;
      const refs = rel ? listArg(rel[1] as string, 'references') : undefined;
      if (fields && refs) {
        raw.relationKeys.set(fieldName, fields);
        raw.references.push({ target: type, fields: refs });
      }
      continue;
    }
    raw.scalars.set(fieldName, type);
    if (/@id\b/.test(attrs)) id = { name: fieldName, fields: [fieldName] };
    else if (/@unique\b/.test(attrs)) singles.push({ name: fieldName, fields: [fieldName] });
  }
  raw.uniqueKeys = [...(id ? [id] : []), ...singles, ...compounds];
  return raw;
}

/** `[a, b], name: "x"` or `fields: [a, b], map: "y"` → `{ name: 'x' | 'a_b', fields: ['a', 'b'] }`. */
function compoundKey(args: string): UniqueKey | undefined {
  const fields = listArg(args, 'fields') ?? (/^\s*\[([^\]]*)\]/.exec(args)?.[1] ?? '').split(',').map(fieldRef).filter(Boolean);
  if (fields.length === 0) return undefined;
  const named = /\bname\s*:\s*"([^"]+)"/.exec(args)?.[1];
  return { name: named ?? fields.join('_'), fields };
}

function listArg(args: string, name: string): string[] | undefined {
  const m = new RegExp(`\\b${name}\\s*:\\s*\\[([^\\]]*)\\]`).exec(args);
  return m ? (m[1] as string).split(',').map(fieldRef).filter(Boolean) : undefined;
}

/** `sku(sort: Desc)` → `sku`. */
function fieldRef(s: string): string {
  return s.trim().replace(/\(.*$/, '').trim();
}

/** Drops `//` comments (and `///` doc comments) outside string literals. */
function stripComments(schema: string): string {
  return schema
    .split('\n')
    .map((line) => {
      let inString = false;
      for (let i = 0; i < line.length; i++) {
        const c = line[i];
        if (c === '"' && line[i - 1] !== '\\') inString = !inString;
        else if (!inString && c === '/' && line[i + 1] === '/') return line.slice(0, i);
      }
      return line;
    })
    .join('\n');
}
