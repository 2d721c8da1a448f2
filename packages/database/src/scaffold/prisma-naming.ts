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

/** Names Prisma refuses for a model or enum (its scalar types and the client's own names). */
export const RESERVED_MODEL_NAMES = new Set(['String', 'Boolean', 'Int', 'BigInt', 'Float', 'Decimal', 'DateTime', 'Json', 'Bytes', 'Unsupported', 'Prisma', 'PrismaClient']);

/** The words of a source name: `route_stops` → [route, stops], `Event-Id` → [Event, Id], `HTTPLog` → [HTTP, Log]. */
function words(name: string): string[] {
  return name
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .replace(/([A-Z]+)([A-Z][a-z])/g, '$1 $2')
    .split(/[^A-Za-z0-9]+/)
    .filter(Boolean);
}

/** `stops` → `stop`, `entries` → `entry`, `boxes` → `box`, `statuses` → `status`; `status` and `telemetry` stay. */
export function singularize(word: string): string {
  if (UNCOUNTABLE.has(word.toLowerCase()) || /(ss|us|is)$/i.test(word)) return word;
  if (/[^aeiou]ies$/i.test(word)) return `${word.slice(0, -3)}y`;
  if (/(ss|x|ch|sh|z|[^aeiou]us)es$/i.test(word)) return word.slice(0, -2);
  if (/s$/i.test(word)) return word.slice(0, -1);
  return word;
}

const pascal = (ws: string[]): string => {
  const s = ws.map((w) => upperFirst(/^[A-Z0-9]+$/.test(w) && w.length > 1 ? w.toLowerCase() : w)).join('');
  return /^[A-Za-z]/.test(s) ? s : `T${s}`;
};

/**
 * The Prisma model name for a source table: a PascalCase name stays as it is; a snake_case table
 * (`route_stops`) becomes the singular `RouteStop`; anything else (`"Event Log"`) PascalCase words.
 */
export function modelNameFor(table: string): string {
  if (/^[A-Z][A-Za-z0-9]*$/.test(table)) return table;
  const ws = words(table);
  if (ws.length === 0) return 'Table';
  if (/^[a-z0-9_]+$/.test(table)) ws[ws.length - 1] = singularize(ws[ws.length - 1] as string);
  return pascal(ws);
}

/** The Prisma enum name for a source type: `route_state` → `RouteState`, `"Stop Kind"` → `StopKind`. */
export function enumNameFor(type: string): string {
  return /^[A-Z][A-Za-z0-9]*$/.test(type) ? type : pascal(words(type).length ? words(type) : ['Enum']);
}

/** The Prisma field name for a source column: camelCase stays; `route_id` → `routeId`, `"Event-Id"` → `eventId`, `Kind` → `kind`. */
export function fieldNameFor(column: string): string {
  if (/^[a-z][A-Za-z0-9]*$/.test(column)) return column;
  const ws = words(column).map((w) => w.toLowerCase());
  if (ws.length === 0) return 'column';
  const s = (ws[0] as string) + ws.slice(1).map(upperFirst).join('');
  return /^[a-z]/.test(s) ? s : `c${s}`;
}

/** A Prisma enum value name for a database label: identifiers stay, `in progress` → `in_progress`, `24h` → `v24h`. */
export function enumValueFor(label: string): string {
  if (isPrismaIdentifier(label)) return label;
  const s = label.replace(/[^A-Za-z0-9_]+/g, '_').replace(/^_+|_+$/g, '');
  return /^[A-Za-z]/.test(s) ? s : `v${s || 'empty'}`;
}
