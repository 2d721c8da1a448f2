import type { ColumnInfo, ForeignKeyInfo, TableInfo } from '../catalog/table-catalog.ts';
import type { ServiceName } from '../services.ts';
import { SERVICE_INFO } from '../services.ts';
import type { PlanFile } from '../split/plan-file.ts';
import type { TargetModel } from '../split/target-models.ts';
import type { Unmapped } from './find-unmapped.ts';
import { prismaColumnType } from './prisma-column-type.ts';
import { prismaDefault } from './prisma-default.ts';
import { enumNameFor, enumValueFor, fieldNameFor, lowerFirst, modelNameFor, pluralize, prismaString, RESERVED_MODEL_NAMES, snakeCase, tableNameFor, upperFirst } from './prisma-naming.ts';
import { SOURCE_MARKER } from '../split/target-models.ts';
import type { OwnerProposal } from './propose-owners.ts';
import type { ScaffoldCatalog, ScaffoldTableExtras } from './scaffold-catalog.ts';
import { blockFieldNames, enumBlockLabels, findBlock, relationCount } from './schema-text.ts';

/** A soft reference the scaffold adds to src/schema/soft-references.ts. */
export interface SoftReferenceDraft {
  readonly fromService: ServiceName;
  readonly model: string;
  readonly field: string;
  readonly toService: ServiceName;
  readonly toModel: string;
  readonly toField: string;
}

/** What the scaffold adds to one service's schema.prisma. */
export interface ServiceEdit {
  /** New enum and model blocks, appended to the file. */
  readonly blocks: string[];
  /** Existing model → field lines to append. */
  readonly fields: Map<string, string[]>;
  /** Existing model → block attributes (@@index, @@unique) to append. */
  readonly attributes: Map<string, string[]>;
}

export interface ScaffoldDraft {
  readonly edits: ReadonlyMap<ServiceName, ServiceEdit>;
  readonly softReferences: readonly SoftReferenceDraft[];
  /** Things written with a caveat, said in the output. */
  readonly notes: readonly string[];
  /** Things that stop the scaffold (nothing is written): names the table/column. */
  readonly problems: readonly string[];
}

export interface ScaffoldInputs {
  readonly sourceSchema: string;
  readonly sourceTables: ReadonlyMap<string, TableInfo>;
  readonly catalog: ScaffoldCatalog;
  readonly models: readonly TargetModel[];
  readonly planFile: PlanFile;
  readonly unmapped: Unmapped;
  readonly owners: readonly OwnerProposal[];
  /** Current text of each service's schema.prisma. */
  readonly schemaTexts: ReadonlyMap<ServiceName, string>;
}

/** Where a source table lives after the scaffold: its service, model and field names. */
interface Entity {
  readonly table: string;
  readonly service: ServiceName;
  readonly model: string;
  readonly targetTable: string;
  readonly isNew: boolean;
  /** Source column → field name. */
  readonly fieldOf: Map<string, string>;
  /** Every field name the model has or gets (scalar and relation). */
  readonly names: Set<string>;
  /** Every target column name the model has or gets. */
  readonly columns: Set<string>;
  readonly lines: string[];
  readonly attributes: string[];
}

const ACTIONS: Record<string, string> = { a: 'NoAction', r: 'Restrict', c: 'Cascade', n: 'SetNull', d: 'SetDefault' };
const NO_EXTRAS: ScaffoldTableExtras = { defaults: new Map(), indexes: [], skippedIndexes: [], fkActions: new Map(), checks: [], generated: new Map(), comment: undefined, columnComments: new Map() };

/**
 * Turns the unmapped tables and columns into Prisma text in the house conventions: new enums and
 * models (snake_case @@map/@map, @@schema, keys, uniques, indexes, defaults), relations inside a
 * service, plain indexed ID columns plus soft references across services, and fields appended to
 * the models of mapped tables. Pure: the caller writes the files.
 */
export function buildScaffold(inp: ScaffoldInputs): ScaffoldDraft {
  const problems: string[] = [];
  const notes: string[] = [];
  const edits = new Map<ServiceName, ServiceEdit>();
  const edit = (s: ServiceName): ServiceEdit => {
    let e = edits.get(s);
    if (!e) edits.set(s, (e = { blocks: [], fields: new Map(), attributes: new Map() }));
    return e;
  };
  const entities = new Map<string, Entity>();
  // Models and enums share one namespace in a Prisma schema: the service's enums and the ones the scaffold may write count too.
  const enumNames = [...inp.schemaTexts.values()].flatMap((t) => [...t.matchAll(/^enum\s+(\w+)/gm)].map((m) => m[1] as string));
  const takenModels = new Set([...inp.models.map((m) => m.model), ...RESERVED_MODEL_NAMES, ...enumNames, ...[...inp.catalog.enums.keys()].map(enumNameFor)]);
  const takenTables = new Set(inp.models.map((m) => `${m.schema}.${m.table}`));
  for (const [table, m] of inp.unmapped.modelOf) {
    const rules = inp.planFile.tables?.[m.model]?.columns ?? {};
    const fieldOf = new Map<string, string>();
    for (const f of m.fields) {
      const r = rules[f.name];
      fieldOf.set(r && 'source' in r ? r.source : (f.source ?? f.name), f.name);
    }
    const block = findBlock(inp.schemaTexts.get(m.service) ?? '', 'model', m.model) ?? '';
    entities.set(table, { table, service: m.service, model: m.model, targetTable: m.table, isNew: false, fieldOf, names: blockFieldNames(block), columns: new Set(m.fields.map((f) => f.column)), lines: [], attributes: [] });
  }
  for (const o of inp.owners) {
    const wanted = modelNameFor(o.table);
    const model = uniqueName(takenModels, wanted, 'Record');
    if (model !== wanted) notes.push(`${inp.sourceSchema}."${o.table}": model name ${wanted} is ${RESERVED_MODEL_NAMES.has(wanted) ? 'reserved by Prisma' : 'taken by another model or enum'}; named ${model}`);
    const schema = SERVICE_INFO[o.service].schema;
    const wantedTable = /^[a-z][a-z0-9_]*$/.test(o.table) ? o.table : tableNameFor(model);
    let targetTable = wantedTable;
    for (let i = 2; takenTables.has(`${schema}.${targetTable}`); i++) targetTable = `${wantedTable}_${i}`;
    takenTables.add(`${schema}.${targetTable}`);
    if (targetTable !== wantedTable) notes.push(`${model}: table ${schema}.${wantedTable} is taken; the model maps to ${schema}.${targetTable}`);
    entities.set(o.table, { table: o.table, service: o.service, model, targetTable, isNew: true, fieldOf: new Map(), names: new Set(), columns: new Set(), lines: [], attributes: [] });
  }
  const newColumns = new Map<string, ColumnInfo[]>();
  for (const o of inp.owners) newColumns.set(o.table, [...(inp.sourceTables.get(o.table)?.columns ?? [])]);
  for (const c of inp.unmapped.columns) {
    const col = inp.sourceTables.get(c.table)?.columns.find((x) => x.name === c.column);
    if (col) newColumns.set(c.table, [...(newColumns.get(c.table) ?? []), col]);
  }
  /** Service → source enum type names its new fields use. */
  const enumsNeeded = new Map<ServiceName, Set<string>>();
  const enumValue = (type: string, label: string): string | undefined => enumValueNames(inp.catalog.enums.get(type) ?? []).get(label);

  // Scalar fields first: relations need every entity's field names.
  for (const [table, cols] of newColumns) {
    const ent = entities.get(table) as Entity;
    const src = inp.sourceTables.get(table) as TableInfo;
    const extras = inp.catalog.tables.get(table) ?? NO_EXTRAS;
    for (const c of cols) {
      const field = uniqueName(ent.names, fieldNameFor(c.name), '');
      ent.fieldOf.set(c.name, field);
    }
    const uniqueRow = src.primaryKey.length === 0 ? src.uniques.find((u) => u.every((x) => src.columns.find((c) => c.name === x)?.notNull)) : undefined;
    if (ent.isNew && src.primaryKey.length === 0 && !uniqueRow) addSurrogateKey(ent, notes, inp.sourceSchema);
    if (ent.isNew && uniqueRow) notes.push(`${ent.model}: ${inp.sourceSchema}."${table}" has no primary key; its unique NOT NULL ${uniqueRow.length > 1 ? 'columns' : 'column'} ${uniqueRow.join(', ')} identify rows (no surrogate key). For \`split follow\` the source needs ALTER TABLE ${inp.sourceSchema}.${quoteIdent(table)} REPLICA IDENTITY USING INDEX <that unique index> (or FULL)`);
    for (const c0 of cols) {
      const field = ent.fieldOf.get(c0.name) as string;
      const domain = inp.catalog.domains.get(c0.baseType);
      const c = domain ? { ...c0, type: `${domain.base}${c0.isArray ? '[]' : ''}`, baseType: domain.base } : c0;
      if (domain) notes.push(`${ent.model}.${field}: domain ${c0.baseType} written as its base type ${domain.base}${domain.checks.length ? `; its ${domain.checks.join(' ')} is not moved: add it as a CHECK constraint in a migration of ${ent.service} if the service needs it` : ''}`);
      let t = prismaColumnType(c);
      if (/^citext$/.test(c.baseType)) {
        t = { type: 'String', native: undefined, enumName: undefined };
        notes.push(`${ent.model}.${field}: citext written as text (the target schema has no citext extension on its search_path); comparisons become case-sensitive: install citext in the target and ALTER the column by a migration if they must not`);
      }
      if (t.enumName) {
        const set = enumsNeeded.get(ent.service) ?? new Set<string>();
        set.add(t.enumName);
        enumsNeeded.set(ent.service, set);
        t = { ...t, type: existingEnumName(inp.schemaTexts.get(ent.service) ?? '', t.enumName) ?? enumNameFor(t.enumName) };
      }
      if (t.type.startsWith('Unsupported')) notes.push(`${ent.model}.${field}: type ${c.type} has no Prisma scalar; written as ${t.type} (migrated and copied, not readable through the client)`);
      const single = src.primaryKey.length === 1 && src.primaryKey[0] === c.name && ent.isNew;
      const uniqueAlone = extras.indexes.some((i) => i.unique && !i.primary && i.columns.length === 1 && i.columns[0] === c.name);
      const attrs: string[] = [];
      if (single) attrs.push('@id');
      if (uniqueAlone) attrs.push('@unique');
      const generated = extras.generated.get(c.name);
      const expr = extras.defaults.get(c.name);
      let dflt = prismaDefault(expr, c, t, t.enumName ? (label) => enumValue(t.enumName as string, label) : undefined);
      if (!dflt && single && t.type === 'String' && !t.native && field === 'id') dflt = '@default(cuid())';
      if (!dflt && field === 'updatedAt' && t.type === 'DateTime' && c.notNull && !c.isArray) dflt = '@updatedAt';
      if (generated !== undefined) {
        dflt = undefined;
        notes.push(`${ent.model}.${field}: generated column (GENERATED ALWAYS AS (${generated}) STORED) written as a plain column; the split copies its values but the target does not compute it: make it generated again with a migration of ${ent.service}, or compute it in the service`);
      }
      const seq = expr?.match(/^nextval\('(.*)'::regclass\)$/)?.[1];
      if (seq && dflt === '@default(autoincrement())' && !c.sequence) notes.push(`${ent.model}.${field}: its default takes numbers from the sequence ${seq}, which no column owns (shared); written as autoincrement(): the target table gets a sequence of its own, so numbers are no longer unique across the tables that shared it`);
      if (dflt) attrs.push(dflt);
      if (t.native) attrs.push(t.native);
      const column = uniqueName(ent.columns, snakeCase(field), '_');
      if (column !== field) attrs.push(`@map(${prismaString(column)})`);
      const optional = !c.notNull && !c.isArray && !single ? '?' : '';
      const comment = extras.columnComments.get(c.name);
      if (comment) ent.lines.push(...docLines(comment));
      ent.lines.push(`${field} ${t.type}${c.isArray ? '[]' : ''}${optional}${attrs.length ? ` ${attrs.join(' ')}` : ''}${field !== c.name ? ` // ${SOURCE_MARKER} ${prismaString(c.name)}` : ''}`);
    }
    if (ent.isNew && src.primaryKey.length > 1) ent.attributes.push(`@@id([${src.primaryKey.map((c) => ent.fieldOf.get(c)).join(', ')}])`);
    const newSet = new Set(cols.map((c) => c.name));
    for (const i of extras.indexes) {
      if (i.primary || (i.unique && i.columns.length === 1)) continue;
      if (!i.columns.some((c) => newSet.has(c))) continue;
      const fields = i.columns.map((c) => ent.fieldOf.get(c));
      if (fields.some((f) => f === undefined)) continue;
      ent.attributes.push(`${i.unique ? '@@unique' : '@@index'}([${fields.join(', ')}])`);
    }
    for (const k of ent.isNew ? extras.checks : []) {
      notes.push(`${ent.model}: constraint ${k.name} ${k.definition}: Prisma cannot declare CHECK constraints; not scaffolded (listed by \`split plan\` as not moved); add it in a migration of ${ent.service} with the target names if it must still hold`);
    }
    for (const i of extras.skippedIndexes) {
      if (!ent.isNew) continue;
      notes.push(`${ent.model}: index ${i.name} uses an expression or a predicate, which Prisma cannot declare: not scaffolded (listed by \`split plan\` as not moved); recreate it in a migration of ${ent.service} with the target names: ${i.definition}`);
    }
  }

  const softReferences: SoftReferenceDraft[] = [];
  for (const [table, cols] of newColumns) {
    const ent = entities.get(table) as Entity;
    const src = inp.sourceTables.get(table) as TableInfo;
    const extras = inp.catalog.tables.get(table) ?? NO_EXTRAS;
    const newSet = new Set(cols.map((c) => c.name));
    for (const fk of src.foreignKeys) {
      if (!fk.columns.every((c) => newSet.has(c) || ent.isNew)) continue;
      if (!fk.columns.some((c) => newSet.has(c))) continue;
      addForeignKey(inp, ent, fk, extras, entities, edit, softReferences, notes);
    }
  }

  for (const [service, names] of enumsNeeded) {
    const text = inp.schemaTexts.get(service) ?? '';
    for (const name of [...names].sort()) {
      const labels = inp.catalog.enums.get(name) ?? [];
      const prismaName = existingEnumName(text, name) ?? enumNameFor(name);
      const existing = findBlock(text, 'enum', prismaName);
      if (existing) {
        const have = enumBlockLabels(existing);
        const missing = labels.filter((l) => !have.includes(l));
        const extra = have.filter((l) => !labels.includes(l));
        if (missing.length || extra.length) {
          problems.push(`enum ${prismaName} of service ${service} differs from the source type ${inp.sourceSchema}."${name}": ${missing.length ? `label${missing.length > 1 ? 's' : ''} ${missing.join(', ')} missing in the service` : ''}${missing.length && extra.length ? '; ' : ''}${extra.length ? `label${extra.length > 1 ? 's' : ''} ${extra.join(', ')} not in the source` : ''}; it is hand-written, so the scaffold leaves it: fix it by hand`);
        }
        continue;
      }
      edit(service).blocks.push(enumBlock(prismaName, labels, SERVICE_INFO[service].schema, `${inp.sourceSchema}.${quoteIdent(name)}`));
    }
  }
  for (const ent of [...entities.values()].filter((e) => e.isNew).sort((a, b) => a.table.localeCompare(b.table))) {
    const src = inp.sourceTables.get(ent.table) as TableInfo;
    edit(ent.service).blocks.push(modelBlock(ent, inp.sourceSchema, src, inp.catalog.tables.get(ent.table)?.comment));
  }
  for (const ent of entities.values()) {
    if (ent.isNew || (ent.lines.length === 0 && ent.attributes.length === 0)) continue;
    const e = edit(ent.service);
    e.fields.set(ent.model, ent.lines);
    e.attributes.set(ent.model, ent.attributes);
  }
  return { edits, softReferences, notes, problems };
}

function addSurrogateKey(ent: Entity, notes: string[], sourceSchema: string): void {
  const name = ent.names.has('id') ? 'scaffoldId' : 'id';
  ent.names.add(name);
  ent.lines.push(`/// Surrogate key: ${sourceSchema}."${ent.table}" has no primary key; filled by the target while copying.`);
  ent.lines.push(`${name} BigInt @id @default(autoincrement())${name === 'id' ? '' : ` @map(${prismaString(snakeCase(name))})`}`);
  notes.push(`${ent.model}: ${sourceSchema}."${ent.table}" has no primary key; the model gets a surrogate key ${name} (BigInt, autoincrement). The copy runs it as one chunk and verify compares it by its columns; add a primary key to the source if it is large.`);
}

function addForeignKey(
  inp: ScaffoldInputs, ent: Entity, fk: ForeignKeyInfo, extras: ScaffoldTableExtras, entities: Map<string, Entity>,
  edit: (s: ServiceName) => ServiceEdit, softReferences: SoftReferenceDraft[], notes: string[],
): void {
  const fields = fk.columns.map((c) => ent.fieldOf.get(c) as string);
  const target = fk.refSchema === inp.sourceSchema ? entities.get(fk.refTable) : undefined;
  const indexed = extras.indexes.some((i) => i.columns[0] === fk.columns[0]) || (inp.sourceTables.get(ent.table)?.primaryKey[0] === fk.columns[0]);
  if (!target) {
    notes.push(`${ent.model}.${fields.join(', ')}: foreign key ${fk.name} to ${fk.refSchema}."${fk.refTable}" (not moved to any service): kept as a plain column`);
    if (!indexed) ent.attributes.push(`@@index([${fields.join(', ')}])`);
    return;
  }
  const refFields = fk.refColumns.map((c) => target.fieldOf.get(c));
  if (target.service !== ent.service || refFields.some((f) => f === undefined)) {
    const doc = `/// Soft reference to ${SERVICE_INFO[target.service].schema}.${target.targetTable}.${fk.refColumns.map(snakeCase).join(', ')}.`;
    const at = ent.lines.findIndex((l) => new RegExp(`^${fields[0]}\\s`).test(l));
    if (at >= 0) ent.lines.splice(at, 0, doc);
    if (!indexed) ent.attributes.push(`@@index([${fields.join(', ')}])`);
    if (fields.length === 1 && refFields[0] !== undefined) {
      softReferences.push({ fromService: ent.service, model: ent.model, field: fields[0] as string, toService: target.service, toModel: target.model, toField: refFields[0] });
    } else notes.push(`${ent.model}.${fields.join(', ')}: composite reference to ${target.model} across services; not checked by \`split verify\``);
    return;
  }
  // Inside the service: a relation on both sides.
  const base = fields.length === 1 && /(.+?)_?(Id|ID|_id)$/.test(fields[0] as string) ? (fields[0] as string).replace(/_?(Id|ID|_id)$/, '') : lowerFirst(target.model);
  const relField = uniqueName(ent.names, base === fields[0] ? `${base}Ref` : base);
  const selfRef = target === ent;
  const siblings = (inp.sourceTables.get(ent.table)?.foreignKeys ?? []).filter((f) => f.refTable === fk.refTable && f.refSchema === fk.refSchema).length;
  const relName = selfRef || siblings > 1 || countRelations(inp, ent, target) > 0 ? `${ent.model}_${relField}` : undefined;
  const required = fk.columns.every((c) => inp.sourceTables.get(ent.table)?.columns.find((x) => x.name === c)?.notNull);
  const act = extras.fkActions.get(fk.name);
  const args = [`${relName ? `${prismaString(relName)}, ` : ''}fields: [${fields.join(', ')}]`, `references: [${refFields.join(', ')}]`];
  const onDelete = ACTIONS[act?.onDelete ?? 'a'];
  if (onDelete !== (required ? 'Restrict' : 'SetNull')) args.push(`onDelete: ${onDelete}`);
  const onUpdate = ACTIONS[act?.onUpdate ?? 'a'];
  if (onUpdate !== 'Cascade') args.push(`onUpdate: ${onUpdate}`);
  ent.lines.push(`${relField} ${target.model}${required ? '' : '?'} @relation(${args.join(', ')})`);
  if (!indexed) ent.attributes.push(`@@index([${fields.join(', ')}])`);
  const oneToOne = (inp.catalog.tables.get(ent.table)?.indexes ?? []).some((i) => i.unique && i.columns.length === fk.columns.length && i.columns.every((c) => fk.columns.includes(c)));
  // Named relations (several between two models, or a model and itself) say which side they are.
  const backBase = lowerFirst(oneToOne ? ent.model : pluralize(ent.model));
  const backName = uniqueName(target.names, relName ? `${backBase}As${upperFirst(relField)}` : backBase);
  target.lines.push(`${backName} ${ent.model}${oneToOne ? '?' : '[]'}${relName ? ` @relation(${prismaString(relName)})` : ''}`);
  void edit;
}

/** Relations already declared or being added between two models (a second one needs a name). */
function countRelations(inp: ScaffoldInputs, a: Entity, b: Entity): number {
  const text = inp.schemaTexts.get(a.service) ?? '';
  const inA = a.isNew ? 0 : relationCount(findBlock(text, 'model', a.model) ?? '', b.model);
  const added = a.lines.filter((l) => new RegExp(`^\\w+\\s+${b.model}\\??\\s+@relation`).test(l)).length;
  const inB = b.isNew ? 0 : relationCount(findBlock(text, 'model', b.model) ?? '', a.model);
  return inA + added + inB;
}

/** `base`, else `base` + `sep` + 2, 3, … (or `base` + `sep` first when `sep` is a word): the first name not in `names`, which it joins. */
function uniqueName(names: Set<string>, base: string, sep = ''): string {
  let n = base;
  if (names.has(n) && /^[A-Za-z]/.test(sep)) n = `${base}${sep}`;
  for (let i = 2; names.has(n); i++) n = `${base}${sep}${i}`;
  names.add(n);
  return n;
}

/** Source enum labels → Prisma value names, unique within the enum. */
function enumValueNames(labels: readonly string[]): Map<string, string> {
  const taken = new Set<string>();
  return new Map(labels.map((l) => [l, uniqueName(taken, enumValueFor(l), '_')]));
}

/** The name of a hand-written enum of the service that maps the source type (same name, or `@@map` to it). */
function existingEnumName(text: string, sourceType: string): string | undefined {
  if (findBlock(text, 'enum', sourceType)) return sourceType;
  const name = enumNameFor(sourceType);
  return findBlock(text, 'enum', name) ? name : undefined;
}

/** `///` doc-comment lines for a source COMMENT. */
const docLines = (text: string): string[] => text.split(/\r?\n/).map((l) => `/// ${l}`.trimEnd());

const quoteIdent = (s: string): string => (/^[a-z_][a-z0-9_]*$/.test(s) ? s : `"${s.replace(/"/g, '""')}"`);

function enumBlock(name: string, labels: readonly string[], schema: string, source: string): string {
  const names = enumValueNames(labels);
  const values = labels.map((l) => (names.get(l) === l ? l : `${names.get(l)} @map(${prismaString(l)})`));
  return [`/// Scaffolded by \`vendhub-db split scaffold\` from the type ${source}.`, `enum ${name} {`, ...values.map((v) => `  ${v}`), '', `  @@map(${prismaString(snakeCase(name))})`, `  @@schema(${prismaString(schema)})`, '}'].join('\n');
}

function modelBlock(ent: Entity, sourceSchema: string, src: TableInfo, comment: string | undefined): string {
  return [
    ...(comment ? docLines(comment) : []),
    `/// Scaffolded by \`vendhub-db split scaffold\` from ${sourceSchema}."${src.name}".`,
    `model ${ent.model} {`,
    ...(ent.model !== src.name ? [`  // ${SOURCE_MARKER} ${prismaString(src.name)}`] : []),
    ...ent.lines.map((l) => `  ${l}`),
    '',
    ...ent.attributes.map((a) => `  ${a}`),
    `  @@map(${prismaString(ent.targetTable)})`,
    `  @@schema(${prismaString(SERVICE_INFO[ent.service].schema)})`,
    '}',
  ].join('\n');
}
