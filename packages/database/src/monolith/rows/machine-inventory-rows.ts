import { line, nullableNumber, nullableTimestamp, timestamp } from '../copy-text.ts';
import type { RowSource } from '../copy-rows.ts';
import { createdAtOf, HISTORY_END, HISTORY_START, type MonolithContext } from '../monolith-context.ts';
import { SLOTS_PER_MACHINE } from '../monolith-counts.ts';
import { RowRandom, salt } from '../row-random.ts';

/**
 * What each machine stocks: machine m holds `slots` consecutive catalogue items starting at a
 * per-machine offset, so (machineId, itemId) is unique by construction.
 */
export function machineInventoryRows(ctx: MonolithContext): RowSource {
  const r = ctx.random('MachineInventory');
  const offsets = new RowRandom(ctx.seed, salt('MachineInventory.offset'));
  const count = ctx.counts.MachineInventory;
  const { Machine: machines, InventoryItem: items } = ctx.ids;
  const slots = Math.min(SLOTS_PER_MACHINE, items.length);
  const createdAt = createdAtOf('MachineInventory', count, r);
  const id = ctx.idFactory('MachineInventory');
  return {
    table: 'MachineInventory',
    columns: ['id', 'machineId', 'itemId', 'quantity', 'minQuantity', 'maxQuantity', 'lastRefill', 'createdAt', 'updatedAt'],
    count,
    row(i) {
      const m = Math.floor(i / slots);
      const item = (offsets.at(m).int(items.length) + (i % slots)) % items.length;
      r.at(i);
      const created = createdAt(i);
      const lastRefill = i === 1 || r.chance(0.1) ? null : HISTORY_START + r.int(HISTORY_END - HISTORY_START);
      return line([
        id(i),
        machines[m] as string,
        items[item] as string,
        String(r.amount(0, 40, 1)),
        nullableNumber(i === 2 || r.chance(0.15) ? null : r.between(1, 5)),
        nullableNumber(i === 3 || r.chance(0.15) ? null : r.between(20, 60)),
        nullableTimestamp(lastRefill),
        timestamp(created),
        timestamp(Math.max(created, lastRefill ?? created)),
      ]);
    },
  };
}
