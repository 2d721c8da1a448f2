import { json, line, nullableText, text, timestamp } from '../copy-text.ts';
import type { RowSource } from '../copy-rows.ts';
import { createdAtOf, type MonolithContext } from '../monolith-context.ts';
import { STOCK_MOVEMENT_TYPES } from '../monolith-enums.ts';
import { MOVEMENT_REASONS, WAREHOUSES } from '../vocabulary.ts';
import { covering } from './realistic-values.ts';

const round2 = (x: number): number => Math.round(x * 100) / 100;

/** Warehouse ledger: deliveries in, loads out to machines, adjustments and transfers. */
export function stockMovementRows(ctx: MonolithContext): RowSource {
  const r = ctx.random('StockMovement');
  const count = ctx.counts.StockMovement;
  const createdAt = createdAtOf('StockMovement', count, r);
  const id = ctx.idFactory('StockMovement');
  const { InventoryItem: items, User: users, Machine: machines } = ctx.ids;
  return {
    table: 'StockMovement',
    columns: ['id', 'itemId', 'userId', 'type', 'quantity', 'quantityBefore', 'quantityAfter', 'reason', 'reference', 'fromLocation', 'toLocation', 'machineId', 'metadata', 'createdAt'],
    count,
    row(i) {
      r.at(i);
      const created = createdAt(i);
      const type = covering(STOCK_MOVEMENT_TYPES, i, r);
      const quantity = r.amount(1, 100);
      const before = r.amount(0, 500);
      const delta = type === 'IN' ? quantity : type === 'ADJUSTMENT' ? (r.chance(0.5) ? quantity : -quantity) : -quantity;
      const warehouse = r.pick(WAREHOUSES);
      const machine = type === 'OUT' && !r.chance(0.1) ? r.pick(machines) : null;
      return line([
        id(i),
        r.pick(items),
        r.pick(users),
        type,
        String(quantity),
        String(before),
        String(round2(before + delta)),
        text(r.pick(MOVEMENT_REASONS)),
        nullableText(i === 1 || r.chance(0.4) ? null : `НАКЛ-2026/${String(i + 1).padStart(6, '0')}`),
        nullableText(type === 'IN' || type === 'ADJUSTMENT' ? null : warehouse),
        nullableText(type === 'IN' || type === 'TRANSFER' ? r.pick(WAREHOUSES) : null),
        nullableText(machine),
        json(i === 0 || r.chance(0.5) ? null : { batch: r.chars(6, '0123456789ABCDEF'), expires: '2027-01-31', supplier: { name: 'ООО «Кофе-Трейд»', inn: String(r.between(1e9, 1e10 - 1)) } }),
        timestamp(created),
      ]);
    },
  };
}
