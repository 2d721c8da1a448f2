import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ServiceName } from './services.ts';

/** The package root (packages/database), wherever it is installed. */
export const PACKAGE_ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');

/** The package's own prisma folder: `<service>/schema.prisma` and `<service>/migrations/`. */
export const PRISMA_DIR = join(PACKAGE_ROOT, 'prisma');

export const schemaPath = (name: ServiceName | 'monolith', prismaDir = PRISMA_DIR): string => join(prismaDir, name, 'schema.prisma');
export const migrationsDir = (name: ServiceName | 'monolith', prismaDir = PRISMA_DIR): string => join(prismaDir, name, 'migrations');
