import type { RowSource } from './copy-rows.ts';
import type { MonolithContext } from './monolith-context.ts';
import type { MonolithTable } from './monolith-counts.ts';
import { auditLogRows } from './rows/audit-log-rows.ts';
import { inventoryItemRows } from './rows/inventory-item-rows.ts';
import { locationRows } from './rows/location-rows.ts';
import { machineInventoryRows } from './rows/machine-inventory-rows.ts';
import { machineRows } from './rows/machine-rows.ts';
import { serviceHistoryRows } from './rows/service-history-rows.ts';
import { stockMovementRows } from './rows/stock-movement-rows.ts';
import { taskActionRows } from './rows/task-action-rows.ts';
import { taskRows } from './rows/task-rows.ts';
import { telemetryRows } from './rows/telemetry-rows.ts';
import { transactionRows } from './rows/transaction-rows.ts';
import { userRows } from './rows/user-rows.ts';

/** The row generator of each monolith table. */
export const MONOLITH_ROWS: Readonly<Record<MonolithTable, (ctx: MonolithContext) => RowSource>> = Object.freeze({
  User: userRows,
  Location: locationRows,
  Machine: machineRows,
  Task: taskRows,
  TaskAction: taskActionRows,
  InventoryItem: inventoryItemRows,
  StockMovement: stockMovementRows,
  MachineTelemetry: telemetryRows,
  AuditLog: auditLogRows,
  Transaction: transactionRows,
  MachineInventory: machineInventoryRows,
  ServiceHistory: serviceHistoryRows,
});
