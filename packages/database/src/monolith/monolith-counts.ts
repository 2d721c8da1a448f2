/** Row counts of the monolith's twelve public tables, keyed by Prisma model (= table) name. */
export interface MonolithCounts {
  User: number;
  Location: number;
  Machine: number;
  Task: number;
  TaskAction: number;
  InventoryItem: number;
  StockMovement: number;
  MachineTelemetry: number;
  AuditLog: number;
  Transaction: number;
  MachineInventory: number;
  ServiceHistory: number;
}

export type MonolithTable = keyof MonolithCounts;

/** Parents before children, so every foreign key already has its target when a table loads. */
export const MONOLITH_TABLES: readonly MonolithTable[] = Object.freeze([
  'Location',
  'User',
  'InventoryItem',
  'Machine',
  'Task',
  'TaskAction',
  'StockMovement',
  'MachineInventory',
  'ServiceHistory',
  'AuditLog',
  'Transaction',
  'MachineTelemetry',
]);

/** Items a machine stocks; machine inventory has one row per (machine, item) pair. */
export const SLOTS_PER_MACHINE = 12;
export const SERVICES_PER_MACHINE = 3;
export const ACTIONS_PER_TASK = 3;

const clamp = (x: number, min: number, max = Number.POSITIVE_INFINITY): number => Math.min(max, Math.max(min, Math.round(x)));

/**
 * Row counts for a scale: scale 1 is about 10,000 telemetry rows, scale 100 about 1,000,000.
 * Fleet-sized tables (machines, locations, users, catalogue) are capped, as a real operator's
 * fleet does not grow with its history; the minimums keep every enum value and every NULL
 * pattern present even at tiny scales such as 0.05.
 *
 * @example monolithCounts(1).MachineTelemetry // 10000
 */
export function monolithCounts(scale: number): MonolithCounts {
  if (!Number.isFinite(scale) || scale <= 0) throw new RangeError(`scale must be a positive number, got ${scale}`);
  const Machine = clamp(20 * scale, 6, 5000);
  const InventoryItem = clamp(30 + 3 * scale, SLOTS_PER_MACHINE, 600);
  const Task = clamp(40 * scale, 10);
  return {
    User: clamp(12 * scale, 8, 5000),
    Location: clamp(5 * scale, 3, 2000),
    Machine,
    Task,
    TaskAction: Task * ACTIONS_PER_TASK,
    InventoryItem,
    StockMovement: clamp(120 * scale, 8),
    MachineTelemetry: clamp(10_000 * scale, 200),
    AuditLog: clamp(300 * scale, 20),
    Transaction: clamp(2000 * scale, 20),
    MachineInventory: Machine * Math.min(SLOTS_PER_MACHINE, InventoryItem),
    ServiceHistory: Machine * SERVICES_PER_MACHINE,
  };
}
