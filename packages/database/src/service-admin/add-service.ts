import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { VendhubError } from '../errors/vendhub-error.ts';
import { LOCKFILE, LOCKFILE_CONTENT } from '../migrate/migrations-dir.ts';
import { PACKAGE_ROOT } from '../paths.ts';
import { SERVICE_REGISTRY } from '../service-registry.ts';
import { SERVICES } from '../services.ts';
import { renderClientFile, renderServiceClients, renderServiceRegistry, renderServiceSchema } from './service-templates.ts';

export interface AddServiceResult {
  readonly service: string;
  readonly schema: string;
  readonly urlVar: string;
  readonly role: string;
  /** Files written or changed, relative to the package root. */
  readonly files: readonly string[];
}

const RESERVED = new Set(['monolith', 'all', 'generated', 'split', 'service']);

/**
 * Adds a service as data: its schema file and migrations folder, its client file, its entry in the
 * registry (src/service-registry.ts, from which SERVICES, env variables and roles derive), the
 * client registry and package export, and an empty cache-policy entry. Refuses a name in use.
 */
export function addService(name: string, schema = `${name}_service`, root = PACKAGE_ROOT): AddServiceResult {
  const problems: string[] = [];
  if (!/^[a-z][a-z0-9]{1,30}$/.test(name)) problems.push(`service name "${name}" must be 2-31 lower-case letters and digits, starting with a letter`);
  if (RESERVED.has(name)) problems.push(`service name "${name}" is reserved`);
  if ((SERVICES as readonly string[]).includes(name)) problems.push(`service "${name}" exists already`);
  if (!/^[a-z_][a-z0-9_]{0,62}$/.test(schema)) problems.push(`schema "${schema}" must be a lower-case PostgreSQL identifier`);
  const schemas = Object.values(SERVICE_REGISTRY).map((s) => s.schema as string);
  if (schemas.includes(schema)) problems.push(`schema "${schema}" belongs to another service`);
  const schemaFile = join(root, 'prisma', name, 'schema.prisma');
  if (existsSync(schemaFile)) problems.push(`prisma/${name}/schema.prisma exists already`);
  if (problems.length) throw new VendhubError('USAGE', problems.join('\n'), { details: { problems } });

  const entries = [...Object.entries(SERVICE_REGISTRY).map(([n, v]) => ({ name: n, schema: v.schema as string })), { name, schema }];
  const files: string[] = [];
  const write = (rel: string, text: string) => {
    mkdirSync(join(root, rel, '..'), { recursive: true });
    writeFileSync(join(root, rel), text);
    files.push(rel);
  };
  write(`prisma/${name}/schema.prisma`, renderServiceSchema(name, schema));
  write(`prisma/${name}/migrations/${LOCKFILE}`, LOCKFILE_CONTENT);
  write(`src/clients/${name}.client.ts`, renderClientFile(name));
  write('src/clients/service-clients.ts', renderServiceClients(entries.map((e) => e.name)));
  write('src/service-registry.ts', renderServiceRegistry(entries));
  write('src/clients/cache-policies.ts', addCachePolicyEntry(readFileSync(join(root, 'src/clients/cache-policies.ts'), 'utf8'), name));
  const pkgPath = join(root, 'package.json');
  const pkg = JSON.parse(readFileSync(pkgPath, 'utf8')) as { exports?: Record<string, string> };
  pkg.exports = { ...(pkg.exports ?? {}), [`./${name}`]: `./src/clients/${name}.client.ts` };
  write('package.json', `${JSON.stringify(pkg, null, 2)}\n`);
  return { service: name, schema, urlVar: `${name.toUpperCase()}_DATABASE_URL`, role: `vendhub_${name}`, files };
}

/** Adds `<name>: {},` as the last entry of CACHE_POLICIES (per-model policies go there by hand). */
export function addCachePolicyEntry(text: string, name: string): string {
  const start = text.indexOf('export const CACHE_POLICIES');
  const end = text.indexOf('\n};', start);
  if (start === -1 || end === -1) throw new VendhubError('INTERNAL', 'src/clients/cache-policies.ts: CACHE_POLICIES object not found');
  return `${text.slice(0, end)}\n  // Added by \`vendhub-db service add\`: per-model policies (ttl, swr, tags) go here.\n  ${name}: {},${text.slice(end)}`;
}
