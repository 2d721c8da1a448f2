import type { ModelCachePolicy } from '../cache/cache-options.ts';
import type { ServiceName } from '../services.ts';

/**
 * Per-model cache defaults for every service, in one place. Reads still opt in per query
 * (`cache: true` uses these); `enabled: false` refuses caching where staleness would hurt or the
 * table is write-mostly. Tags let dependent reads be invalidated across models and services.
 */
export const CACHE_POLICIES: Readonly<Record<ServiceName, Readonly<Record<string, ModelCachePolicy>>>> = {
  auth: {
    User: { ttl: 60, swr: 30 },
    AuditLog: { enabled: false },
  },
  machines: {
    Location: { ttl: 600, swr: 300 },
    Machine: { ttl: 30, swr: 30 },
    MachineTelemetry: { enabled: false },
    ServiceHistory: { ttl: 120 },
  },
  inventory: {
    InventoryItem: { ttl: 300, swr: 60 },
    StockMovement: { ttl: 30 },
    MachineInventory: {
      ttl: 30,
      // A machine's inventory list (read with tags: [`machine:<id>:inventory`]) changes with any of its
      // rows. `rows` holds every row written as it was before and after the write (a row moved from
      // machine A to B names both), whatever the write selected; updateMany/deleteMany included.
      invalidates: ({ rows }) => (rows ?? []).flatMap((r) => (typeof r.machineId === 'string' ? [`machine:${r.machineId}:inventory`] : [])),
    },
  },
  tasks: {
    Task: { ttl: 15 },
    TaskAction: { ttl: 15 },
  },
  shared: {
    Transaction: { ttl: 30 },
  },
};
