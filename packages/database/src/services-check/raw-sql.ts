import type * as TS from 'typescript';
import { ts } from './typescript.ts';
import type { Ownership } from './ownership.ts';

const RAW_METHODS = new Set(['$queryRaw', '$executeRaw', '$queryRawUnsafe', '$executeRawUnsafe']);

/** True for `$queryRaw`, `$executeRaw` and their `Unsafe` forms. */
export const isRawMethod = (name: string): boolean => RAW_METHODS.has(name);

/** The literal text of a raw query: a template's fixed parts, or a string argument. */
export function rawSqlText(node: TS.Expression | undefined): string | undefined {
  if (!node) return undefined;
  if (ts.isNoSubstitutionTemplateLiteral(node) || ts.isStringLiteral(node)) return node.text;
  if (ts.isTemplateExpression(node)) return [node.head.text, ...node.templateSpans.map((s) => ` ? ${s.literal.text}`)].join('');
  if (ts.isTaggedTemplateExpression(node)) return rawSqlText(node.template);
  if (ts.isCallExpression(node)) return rawSqlText(node.arguments[0]);
  return undefined;
}

/**
 * Models whose table a SQL text names after FROM, JOIN, INTO, UPDATE or TABLE, by the monolith's
 * name (`"AuditLog"`) or the service's (`audit_logs`, `auth_service.audit_logs`).
 *
 * @example tablesInSql('SELECT * FROM "AuditLog" a JOIN auth_service.users u ON …', own) // ['AuditLog', 'User']
 */
export function tablesInSql(sql: string, own: Ownership): string[] {
  const found = new Set<string>();
  const re = /\b(?:from|join|into|update|table)\s+((?:"?\w+"?\s*\.\s*)?"?\w+"?)/gi;
  for (const m of sql.matchAll(re)) {
    const raw = (m[1] as string).replace(/\s+/g, '');
    const quoted = raw.includes('"');
    const name = raw.replace(/"/g, '');
    for (const t of own.tables) {
      for (const candidate of t.names) {
        // A quoted name is exact; an unquoted one is folded to lower case by PostgreSQL.
        const hit = quoted ? name === candidate || name === `public.${candidate}` : name.toLowerCase() === candidate || name.toLowerCase() === `public.${candidate}`;
        if (hit) found.add(t.model);
      }
    }
  }
  return [...found];
}
