import { array, json, line, nullableText, nullableTimestamp, text, timestamp } from '../copy-text.ts';
import type { RowSource } from '../copy-rows.ts';
import { createdAtOf, DAY, type MonolithContext } from '../monolith-context.ts';
import { SERVICES_PER_MACHINE } from '../monolith-counts.ts';
import { SERVICE_TYPES } from '../vocabulary.ts';
import { address, photoUrl } from './realistic-values.ts';

/** Maintenance visits: SERVICES_PER_MACHINE per machine, with parts used and photos. */
export function serviceHistoryRows(ctx: MonolithContext): RowSource {
  const r = ctx.random('ServiceHistory');
  const count = ctx.counts.ServiceHistory;
  const performedAt = createdAtOf('ServiceHistory', count, r);
  const id = ctx.idFactory('ServiceHistory');
  const { Machine: machines, User: users } = ctx.ids;
  return {
    table: 'ServiceHistory',
    columns: ['id', 'machineId', 'serviceType', 'description', 'performedById', 'performedAt', 'nextServiceDate', 'photos', 'location', 'metadata'],
    count,
    row(i) {
      r.at(i);
      const at = performedAt(i);
      const type = r.pick(SERVICE_TYPES);
      const photos = i === 1 ? null : i === 2 ? [] : Array.from({ length: r.int(3) }, () => photoUrl(r, 'machine-photos'));
      return line([
        id(i),
        machines[i % machines.length] as string,
        type,
        text(type === 'repair' ? 'Замена платы управления; старая плата — на склад "Брак"' : 'Плановое обслуживание: чистка, промывка, проверка датчиков'),
        r.pick(users),
        timestamp(at),
        nullableTimestamp(i === 0 || r.chance(0.25) ? null : at + r.between(14, 90) * DAY),
        array(photos),
        nullableText(i === 3 || r.chance(0.3) ? null : address(r)),
        json(i === 4 || r.chance(0.3) ? null : { parts: r.chance(0.5) ? [] : [{ name: 'Фильтр Brita Purity C150', qty: 1 }, { name: 'Уплотнитель', qty: r.between(1, 4) }], durationMin: r.between(10, 240), cost: { amount: r.between(0, 90) * 1000, currency: 'RUB' } }),
      ]);
    },
  };
}
