import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ServiceName } from './services.ts';

/** The package root (packages/database), wherever it is installed. */
export const PACKAGE_ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');

export const schemaPath = (name: ServiceName | 'monolith'): string => join(PACKAGE_ROOT, 'prisma', name, 'schema.prisma');
export const migrationsDir = (name: ServiceName | 'monolith'): string => join(PACKAGE_ROOT, 'prisma', name, 'migrations');
