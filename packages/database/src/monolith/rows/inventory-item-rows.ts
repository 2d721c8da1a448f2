import { bool, line, nullableNumber, nullableText, text, timestamp } from '../copy-text.ts';
import type { RowSource } from '../copy-rows.ts';
import { createdAtOf, DAY, HISTORY_END, type MonolithContext } from '../monolith-context.ts';
import { INVENTORY_UNITS } from '../monolith-enums.ts';
import { PRODUCTS } from '../vocabulary.ts';
import { covering } from './realistic-values.ts';

/** The warehouse catalogue: ingredients, consumables, snacks, drinks. */
export function inventoryItemRows(ctx: MonolithContext): RowSource {
  const r = ctx.random('InventoryItem');
  const count = ctx.counts.InventoryItem;
  const createdAt = createdAtOf('InventoryItem', count, r);
  return {
    table: 'InventoryItem',
    columns: ['id', 'name', 'sku', 'unit', 'category', 'description', 'quantity', 'minQuantity', 'maxQuantity', 'price', 'isActive', 'lastUpdated', 'createdAt', 'updatedAt'],
    count,
    row(i) {
      r.at(i);
      const created = createdAt(i);
      const [product, category] = PRODUCTS[i % PRODUCTS.length] as readonly [string, string];
      const variant = i < PRODUCTS.length ? '' : ` (партия ${Math.floor(i / PRODUCTS.length) + 1})`;
      const min = i === 2 || r.chance(0.2) ? null : r.between(1, 20);
      const updated = created + r.int(HISTORY_END - created);
      return line([
        ctx.ids.InventoryItem[i] as string,
        text(product + variant),
        `SKU-${String(i + 1).padStart(5, '0')}`,
        covering(INVENTORY_UNITS, i, r),
        category,
        nullableText(i === 1 || r.chance(0.3) ? null : `${product}: хранить при температуре до +25 °C, «беречь от влаги»`),
        String(r.amount(0, 500, 1)),
        nullableNumber(min),
        nullableNumber(i === 3 || r.chance(0.2) ? null : (min ?? 0) + r.between(50, 400)),
        nullableNumber(i === 5 || r.chance(0.1) ? null : r.amount(0.5, 250)),
        bool(i !== 6 && !r.chance(0.05)),
        timestamp(updated - r.int(DAY)),
        timestamp(created),
        timestamp(updated),
      ]);
    },
  };
}
