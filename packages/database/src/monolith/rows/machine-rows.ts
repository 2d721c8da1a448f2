import { json, line, nullableText, nullableTimestamp, text, timestamp } from '../copy-text.ts';
import type { RowSource } from '../copy-rows.ts';
import { createdAtOf, DAY, HISTORY_END, type MonolithContext } from '../monolith-context.ts';
import { MACHINE_STATUSES } from '../monolith-enums.ts';
import { RowRandom, salt } from '../row-random.ts';
import { MACHINE_MODELS, MACHINE_TYPES } from '../vocabulary.ts';
import { diagnosticDump } from './realistic-values.ts';

export type MachineType = (typeof MACHINE_TYPES)[number];

/** Each machine's type, shared by the machine rows and the telemetry that depends on it. */
export function machineTypes(ctx: MonolithContext): MachineType[] {
  const r = new RowRandom(ctx.seed, salt('Machine.type'));
  return Array.from({ length: ctx.counts.Machine }, (_, i) => r.at(i).pick(MACHINE_TYPES));
}

const STATUS_WEIGHTS = ['ONLINE', 'ONLINE', 'ONLINE', 'ONLINE', 'ONLINE', 'ONLINE', 'OFFLINE', 'MAINTENANCE', 'ERROR'] as const;

/** Every 97th machine (from the second) carries a diagnostic dump big enough to be TOASTed. */
export const isBigMachineMetadata = (i: number): boolean => i % 97 === 1;

function metadata(i: number, type: MachineType, model: string, r: RowRandom): unknown {
  if (!isBigMachineMetadata(i) && (i === 3 || r.chance(0.05))) return null;
  const slots = Array.from({ length: r.between(4, 10) }, (_, s) => ({ slot: s + 1, capacity: r.between(8, 40), price: r.between(5, 40) * 500 }));
  return {
    model,
    firmware: `${r.between(1, 4)}.${r.int(10)}.${r.int(20)}`,
    kind: type,
    slots,
    settings: { cupSizeMl: r.pick([150, 250, 350]), sugarLevels: r.between(0, 5), payments: r.chance(0.5) ? ['cash', 'card'] : ['card', 'qr'] },
    tags: r.chance(0.3) ? [] : ['24/7', r.pick(['вход', 'холл', 'этаж 2', 'outdoor'])],
    contact: r.chance(0.5) ? null : { name: 'Охрана', phone: '+998 71 200-00-00' },
    ...(isBigMachineMetadata(i) ? { diagnostics: diagnosticDump(r, 12_000) } : {}),
  };
}

/** Vending machines; a few without a location, some never pinged. */
export function machineRows(ctx: MonolithContext): RowSource {
  const r = ctx.random('Machine');
  const count = ctx.counts.Machine;
  const createdAt = createdAtOf('Machine', count, r);
  const types = machineTypes(ctx);
  const serialPrefix = r.at(-1).chars(4, '0123456789ABCDEF');
  const { Location: locations } = ctx.ids;
  return {
    table: 'Machine',
    columns: ['id', 'code', 'serialNumber', 'type', 'name', 'status', 'locationId', 'lastPing', 'metadata', 'createdAt', 'updatedAt'],
    count,
    row(i) {
      r.at(i);
      const created = createdAt(i);
      const type = types[i] as MachineType;
      const model = r.pick(MACHINE_MODELS);
      const lastPing = i === 2 || r.chance(0.03) ? null : HISTORY_END - r.int(3 * DAY);
      return line([
        ctx.ids.Machine[i] as string,
        `VM-${String(i + 1).padStart(5, '0')}`,
        `SN-${serialPrefix}-${String(100_000 + i * 37)}`,
        type,
        text(`${model} №${i + 1}${i === 4 ? ' ☕' : ''}`),
        i < MACHINE_STATUSES.length ? (MACHINE_STATUSES[i] as string) : r.pick(STATUS_WEIGHTS),
        nullableText(i === 2 || r.chance(0.04) ? null : r.pick(locations)),
        nullableTimestamp(lastPing),
        json(metadata(i, type, model, r)),
        timestamp(created),
        timestamp(Math.max(created, lastPing ?? created)),
      ]);
    },
  };
}
