/** Small, careful edits of a schema.prisma text: find a block, list its fields, append to it. */

const blockRe = (kind: string, name: string) => new RegExp(`^${kind}\\s+${name}\\s*\\{[\\s\\S]*?^\\}`, 'm');

/** The text of `model Name { ... }` (or enum), or undefined. */
export function findBlock(text: string, kind: 'model' | 'enum', name: string): string | undefined {
  return text.match(blockRe(kind, name))?.[0];
}

/** Every field name of a model block (scalar and relation fields). */
export function blockFieldNames(block: string): Set<string> {
  const names = new Set<string>();
  for (const line of block.split('\n').slice(1, -1)) {
    const m = line.trim().match(/^(\w+)\s+\w/);
    if (m && !line.trim().startsWith('//')) names.add(m[1] as string);
  }
  return names;
}

/** Labels of an enum block (database values: `@map` wins over the name). */
export function enumBlockLabels(block: string): string[] {
  const out: string[] = [];
  for (const line of block.split('\n').slice(1, -1)) {
    const t = line.replace(/\/\/.*$/, '').trim();
    if (!t || t.startsWith('@@')) continue;
    const m = t.match(/^(\w+)(?:\s+@map\(\s*"([^"]*)"\s*\))?/);
    if (m) out.push(m[2] ?? (m[1] as string));
  }
  return out;
}

/** Model names whose fields have type `target` inside `block` (relations to it). */
export function relationCount(block: string, target: string): number {
  return block.split('\n').filter((l) => new RegExp(`^\\s*\\w+\\s+${target}(\\[\\]|\\?)?(\\s|$)`).test(l)).length;
}

/**
 * Appends field lines after the last field of a model and block attributes before its `@@map`
 * (or before the closing brace): the hand-written lines stay as they are.
 */
export function appendToModel(text: string, model: string, fields: readonly string[], attributes: readonly string[]): string {
  const block = findBlock(text, 'model', model);
  if (!block) throw new Error(`model ${model} not found`);
  const lines = block.split('\n');
  const body = lines.slice(1, -1);
  const firstAttr = body.findIndex((l) => l.trim().startsWith('@@'));
  const fieldEnd = firstAttr === -1 ? body.length : firstAttr;
  let lastField = -1;
  for (let i = 0; i < fieldEnd; i++) if ((body[i] as string).trim() && !(body[i] as string).trim().startsWith('//')) lastField = i;
  const withFields = [...body.slice(0, lastField + 1), ...fields.map((f) => `  ${f}`), ...body.slice(lastField + 1)];
  const mapAt = withFields.findIndex((l) => /^\s*@@(map|schema)\b/.test(l));
  const at = mapAt === -1 ? withFields.length : mapAt;
  const withAttrs = [...withFields.slice(0, at), ...attributes.map((a) => `  ${a}`), ...withFields.slice(at)];
  return text.replace(block, [lines[0], ...withAttrs, lines[lines.length - 1]].join('\n'));
}
