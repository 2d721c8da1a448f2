/** The text of the files a service consists of, in the house layout of the first five. */

export const pascal = (name: string): string => name.charAt(0).toUpperCase() + name.slice(1);

export function renderServiceSchema(name: string, schema: string): string {
  return `// Service: ${name}. Owns the PostgreSQL schema "${schema}", in a shared database or in a database of its own.
// Model and field names are the monolith's, so queries compile unchanged; database names are snake_case.
// Relations to other services are plain indexed ID columns (no FK): see src/schema/soft-references.ts.
// Created by \`vendhub-db service add ${name}\`; \`vendhub-db split scaffold --service ${name} --tables ...\` fills it.

generator client {
  provider     = "prisma-client"
  output       = "../../src/generated/${name}"
  moduleFormat = "esm"
}

datasource db {
  provider = "postgresql"
  schemas  = ["${schema}"]
}
`;
}

export function renderClientFile(name: string): string {
  const P = pascal(name);
  return `import { PrismaClient } from '../generated/${name}/client.ts';
import { lifecycleExtension, openServiceConnection, type ServiceClientOptions } from './service-connection.ts';

export * as ${P}Db from '../generated/${name}/client.ts';

/**
 * The ${name} service's Prisma client, configured from \`${name.toUpperCase()}_DATABASE_URL\` (or \`DATABASE_URL\`).
 *
 * @example
 *   const db = create${P}Client();
 *   await db.health();
 *   await db.close();
 */
export function create${P}Client(options: ServiceClientOptions = {}) {
  const conn = openServiceConnection('${name}', options);
  return new PrismaClient(conn.prismaOptions).$extends(lifecycleExtension(conn)).$extends(conn.cacheExtension);
}

export type ${P}Client = ReturnType<typeof create${P}Client>;

let shared: ${P}Client | undefined;

/** A process-wide ${name} client, created on first use. */
export function get${P}Client(): ${P}Client {
  shared ??= create${P}Client();
  return shared;
}
`;
}

export function renderServiceClients(names: readonly string[]): string {
  return [
    '// Every service\'s client, exported and registered by name. Written by `vendhub-db service add`.',
    ...names.map((n) => `import { create${pascal(n)}Client } from './${n}.client.ts';`),
    '',
    ...names.map((n) => `export { create${pascal(n)}Client, get${pascal(n)}Client, ${pascal(n)}Db, type ${pascal(n)}Client } from './${n}.client.ts';`),
    '',
    'export const CLIENT_FACTORIES = {',
    ...names.map((n) => `  ${n}: create${pascal(n)}Client,`),
    '} as const;',
    '',
  ].join('\n');
}

export function renderServiceRegistry(entries: readonly { name: string; schema: string }[]): string {
  return [
    '// The services, as data: one entry per prisma/<name>/schema.prisma, with the PostgreSQL schema it',
    '// owns. Written by `vendhub-db service add <name>`; everything else (SERVICES, SERVICE_INFO, env',
    '// variables, roles, clients, migrations, the split) is derived from it.',
    'export const SERVICE_REGISTRY = {',
    ...entries.map((e) => `  ${e.name}: { schema: '${e.schema}' },`),
    '} as const;',
    '',
  ].join('\n');
}
