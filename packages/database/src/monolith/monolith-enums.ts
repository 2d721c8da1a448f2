/** The monolith's enum labels, in the order its migration declares them. */
export const USER_ROLES = ['ADMIN', 'MANAGER', 'WAREHOUSE', 'OPERATOR', 'TECHNICIAN', 'DRIVER'] as const;
export const MACHINE_STATUSES = ['ONLINE', 'OFFLINE', 'MAINTENANCE', 'ERROR'] as const;
export const TASK_STATUSES = ['CREATED', 'ASSIGNED', 'IN_PROGRESS', 'COMPLETED', 'CANCELLED'] as const;
export const TASK_PRIORITIES = ['LOW', 'MEDIUM', 'HIGH', 'URGENT'] as const;
export const STOCK_MOVEMENT_TYPES = ['IN', 'OUT', 'ADJUSTMENT', 'TRANSFER'] as const;
export const INVENTORY_UNITS = ['KG', 'L', 'PCS', 'PACK'] as const;
