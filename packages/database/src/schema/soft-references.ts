import type { ServiceName } from '../services.ts';

/**
 * A relation that crossed a service boundary in the monolith and lost its foreign key in the split:
 * `from` holds an ID that should exist in `to`, but PostgreSQL no longer checks it (the two tables
 * may live in different databases). `vendhub-db split verify` counts the ones that point nowhere.
 * Names are Prisma model and field names (the same in the monolith and the service schemas).
 */
export interface SoftReference {
  readonly from: { readonly service: ServiceName; readonly model: string; readonly field: string };
  readonly to: { readonly service: ServiceName; readonly model: string; readonly field: string };
  /** True when the monolith had a foreign key here (Transaction.machineId never had one). */
  readonly wasForeignKey: boolean;
}

const ref = (fromService: ServiceName, model: string, field: string, toService: ServiceName, toModel: string, wasForeignKey = true, toField = 'id'): SoftReference =>
  Object.freeze({
    from: Object.freeze({ service: fromService, model, field }),
    to: Object.freeze({ service: toService, model: toModel, field: toField }),
    wasForeignKey,
  });

/**
 * Every cross-service reference, in one place. `vendhub-db split scaffold` appends the ones it
 * derives from the source's foreign keys (before the closing bracket); `split plan` reports any
 * foreign key of the source that crosses services and is missing here.
 */
export const SOFT_REFERENCES: readonly SoftReference[] = Object.freeze([
  ref('tasks', 'Task', 'machineId', 'machines', 'Machine'),
  ref('tasks', 'Task', 'assignedToId', 'auth', 'User'),
  ref('tasks', 'Task', 'createdById', 'auth', 'User'),
  ref('tasks', 'TaskAction', 'userId', 'auth', 'User'),
  ref('inventory', 'StockMovement', 'userId', 'auth', 'User'),
  ref('inventory', 'StockMovement', 'machineId', 'machines', 'Machine'),
  ref('inventory', 'MachineInventory', 'machineId', 'machines', 'Machine'),
  ref('machines', 'ServiceHistory', 'performedById', 'auth', 'User'),
  ref('shared', 'Transaction', 'machineId', 'machines', 'Machine', false),
]);
