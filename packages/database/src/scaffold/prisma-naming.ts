/** Names in the house conventions of the service schemas: models PascalCase, tables snake_case plural. */

const UNCOUNTABLE = new Set(['inventory', 'telemetry', 'history', 'data', 'info', 'metadata', 'equipment', 'information', 'news', 'feedback', 'media']);

/** `UserSession` → `user_session`, `userId` → `user_id`, `HTTPLog` → `http_log`. */
export function snakeCase(name: string): string {
  return name
    .replace(/([a-z0-9])([A-Z])/g, '$1_$2')
    .replace(/([A-Z]+)([A-Z][a-z])/g, '$1_$2')
    .replace(/[^A-Za-z0-9]+/g, '_')
    .replace(/^_+|_+$/g, '')
    .toLowerCase();
}

/** English plural of the last word: `stop` → `stops`, `entry` → `entries`, `telemetry` stays. */
export function pluralize(word: string): string {
  const last = word.split(/_|(?=[A-Z])/).pop()?.toLowerCase() ?? word;
  if (UNCOUNTABLE.has(last) || /s$/.test(word)) return word;
  if (/(x|ch|sh|z)$/.test(word)) return `${word}es`;
  if (/[^aeiou]y$/.test(word)) return `${word.slice(0, -1)}ies`;
  return `${word}s`;
}

/** The table name a scaffolded model gets: `UserSession` → `user_sessions`, `MachineTelemetry` → `machine_telemetry`. */
export const tableNameFor = (model: string): string => pluralize(snakeCase(model));

export const lowerFirst = (s: string): string => s.charAt(0).toLowerCase() + s.slice(1);
export const upperFirst = (s: string): string => s.charAt(0).toUpperCase() + s.slice(1);

/** Whether a source name can be a Prisma model, enum or field name as it is. */
export const isPrismaIdentifier = (s: string): boolean => /^[A-Za-z][A-Za-z0-9_]*$/.test(s);

/** A Prisma string literal. */
export const prismaString = (s: string): string => `"${s.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
