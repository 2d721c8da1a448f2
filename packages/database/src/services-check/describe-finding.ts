import type { FindingKind } from './finding.ts';
import type { Ownership, RelationInfo } from './ownership.ts';

/** `auth` → `getAuthClient`: the factory `@vendhub/database` exports for a service. */
export const factoryName = (service: string): string =>
  `get${service.split(/[-_]/).map((p) => p.charAt(0).toUpperCase() + p.slice(1)).join('')}Client`;

const accessor = (model: string) => model.charAt(0).toLowerCase() + model.slice(1);

/** The message and the suggested fix of one finding, in words a service developer can act on. */
export function describeIssue(kind: FindingKind, models: readonly string[], service: string | undefined, facts: Record<string, unknown>, own: Ownership): { message: string; fix: string } {
  const [model = '', target = ''] = models;
  const rel = facts.relation as RelationInfo | undefined;
  const owner = (m: string) => own.ownerOf.get(m) ?? '?';
  const here = service ? `the ${service} service` : 'this code';
  switch (kind) {
    case 'foreign-model':
      return {
        message: `${model} belongs to the ${facts.owner} service, not ${here}${facts.inTransaction ? ' (inside a $transaction)' : ''}`,
        fix: facts.inTransaction
          ? `move the ${accessor(model)} call out of the transaction onto ${factoryName(String(facts.owner))}() and make it idempotent (outbox or retry)`
          : `call ${factoryName(String(facts.owner))}().${accessor(model)} (import { ${factoryName(String(facts.owner))} } from '@vendhub/database'), or ask the ${facts.owner} service through its API`,
      };
    case 'cross-service-include':
      return {
        message: `${model}.${rel?.field} → ${target} crosses from ${owner(model)} to ${owner(target)}: the relation does not exist after the split`,
        fix: `drop '${rel?.field}' from the include/select and load it with attachRelated(rows, { ${rel?.field}: … }) from '@vendhub/database' (one batched findMany on ${factoryName(owner(target))}())`,
      };
    case 'cross-service-count':
      return {
        message: `_count of ${model}.${rel?.field} (${target}, owned by ${owner(target)}) crosses services`,
        fix: `count with attachRelated(rows, { _count: { ${rel?.field}: … } }) from '@vendhub/database' (one groupBy on ${factoryName(owner(target))}())`,
      };
    case 'cross-service-where':
      return {
        message: `filter through ${model}.${rel?.field} → ${target} (owned by ${owner(target)}) crosses services`,
        fix: `query ${target} ids on ${factoryName(owner(target))}() first, then filter ${model} by ${rel?.keyFields.length ? rel.keyFields.join(', ') : 'those ids'} with { in: ids }`,
      };
    case 'cross-service-orderby':
      return {
        message: `orderBy through ${model}.${rel?.field} → ${target} (owned by ${owner(target)}) crosses services`,
        fix: `load the ${target} rows with attachRelated and sort in the application, or keep a copy of the sort key on ${model}`,
      };
    case 'cross-service-connect':
      return {
        message: `${facts.op} of ${model}.${rel?.field} → ${target} (owned by ${owner(target)}) crosses services`,
        fix: rel?.keyFields.length
          ? `set ${rel.keyFields.join(', ')} directly (check the ${target} exists through ${factoryName(owner(target))}() first: no foreign key does it now)`
          : `set ${rel?.references.join(', ')} on the ${target} rows through ${factoryName(owner(target))}()`,
      };
    case 'cross-service-nested-write':
      return {
        message: `nested ${facts.op} of ${target} through ${model}.${rel?.field} writes into the ${owner(target)} service`,
        fix: `write the ${target} through ${factoryName(owner(target))}() first, then set the id on ${model}; the two writes are no longer one transaction (make the second idempotent)`,
      };
    case 'cross-service-transaction':
      return {
        message: `one $transaction over ${models.join(', ')} spans the services ${(facts.owners as string[]).join(', ')}`,
        fix: 'split it into one transaction per service and make the cross-service step idempotent (outbox or saga); no database transaction spans service databases',
      };
    case 'raw-sql-foreign-table':
      return {
        message: `raw SQL names ${models.join(', ')}, owned by ${(facts.owners as string[]).join(', ')}${service ? `, from ${here}` : ''}`,
        fix: `read ${models.join(', ')} through ${(facts.owners as string[]).map(factoryName).join('() / ')}() (its table lives in its own schema, maybe its own database)`,
      };
    case 'soft-reference-write':
      return {
        message: `${model}.${facts.field} points at ${target} (${owner(target)} service); no foreign key checks it after the split`,
        fix: `check the ${target} exists through ${factoryName(owner(target))}() before writing (or accept it; \`vendhub-db split verify\` counts dangling ones)`,
      };
    case 'unknown-model':
      return {
        message: facts.monolithOnly ? `${model} exists in the monolith but in no service schema` : `no schema has a model for '${facts.accessor}': this call fails already`,
        fix: facts.monolithOnly ? `add ${model} to the schema of the service that should own it` : 'fix the model name (a typo?) or remove the call',
      };
    case 'unknown-field':
      return {
        message: `${model} has no field '${facts.field}' in any schema: this call fails already`,
        fix: `fix the field name or remove it (fields of ${model}: see prisma/${owner(model)}/schema.prisma)`,
      };
    case 'unparsable':
      return { message: 'does not parse', fix: 'fix the syntax error' };
  }
}
