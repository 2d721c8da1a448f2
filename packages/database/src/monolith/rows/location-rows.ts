import { bool, line, nullableNumber, text, timestamp } from '../copy-text.ts';
import type { RowSource } from '../copy-rows.ts';
import { createdAtOf, DAY, type MonolithContext } from '../monolith-context.ts';
import { address, place } from './realistic-values.ts';

/** Sites that host machines: shopping centres, stations, offices; coordinates sometimes unknown. */
export function locationRows(ctx: MonolithContext): RowSource {
  const r = ctx.random('Location');
  const count = ctx.counts.Location;
  const createdAt = createdAtOf('Location', count, r);
  return {
    table: 'Location',
    columns: ['id', 'name', 'address', 'latitude', 'longitude', 'isActive', 'createdAt', 'updatedAt'],
    count,
    row(i) {
      r.at(i);
      const created = createdAt(i);
      const unknownGeo = i === 1 || r.chance(0.1);
      return line([
        ctx.ids.Location[i] as string,
        text(`${place(r)} #${i + 1}`),
        text(i === 0 ? 'Москва, ул. Тверская, д. 7' : address(r)),
        nullableNumber(unknownGeo ? null : r.amount(41.2, 55.9, 6)),
        nullableNumber(unknownGeo ? null : r.amount(37.4, 69.4, 6)),
        bool(i !== 2 && !r.chance(0.05)),
        timestamp(created),
        timestamp(created + r.int(120 * DAY)),
      ]);
    },
  };
}
