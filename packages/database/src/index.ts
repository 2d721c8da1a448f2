/**
 * @vendhub/database: one Prisma client per service, each in its own PostgreSQL schema, in a shared
 * database or a database of its own, chosen by environment variables alone.
 *
 * @example
 *   import { getMachinesClient } from '@vendhub/database';
 *   const db = getMachinesClient(); // MACHINES_DATABASE_URL, else DATABASE_URL
 *   const online = await db.machine.findMany({ where: { status: 'ONLINE' } });
 */
export * from './clients/service-clients.ts';
export { createClient, type ClientFor } from './clients/create-client.ts';
export type { ServiceClientOptions, ServiceHealth } from './clients/service-connection.ts';
export { SERVICES, SERVICE_INFO, type ServiceName, type ServiceInfo } from './services.ts';
export { loadDatabaseConfig, loadServiceConfig, type ServiceConfig, type Env } from './config/database-config.ts';
export { parseConnectionUrl, POOL_DEFAULTS, type PoolOverrides, type ParsedConnection } from './config/connection-url.ts';
export { redactUrl, redactText } from './config/redact.ts';
export { SOFT_REFERENCES, type SoftReference } from './schema/soft-references.ts';
export { migrateService, type MigrateResult } from './migrate/migrate-service.ts';
export { migrationStatus, type MigrationStatus } from './migrate/migration-status.ts';
export { driftCheck, type DriftReport } from './migrate/drift.ts';
export { provisionRoles, type RoleResult } from './roles/provision-roles.ts';
export { prometheusText, type CacheStats, type CacheHealth } from './cache/index.ts';
export { VendhubError, type ErrorCode } from './errors/vendhub-error.ts';
export { EXIT } from './errors/exit-codes.ts';
export { attachRelated, relatedOne, relatedMany, relatedCount, type RelatedCache, type OneSpec, type ManySpec, type CountSpec } from './stitch/attach-related.ts';
