import { array, nullableNumber, text, timestamp } from '../copy-text.ts';
import type { RowSource } from '../copy-rows.ts';
import { HISTORY_SPAN, HISTORY_START, type MonolithContext } from '../monolith-context.ts';
import type { RowRandom } from '../row-random.ts';
import { ERROR_CODES } from '../vocabulary.ts';
import { machineTypes, type MachineType } from './machine-rows.ts';
import { diagnosticDump } from './realistic-values.ts';

/** Plausible cabinet temperature (°C) per machine type: boilers are hot, ice cream is frozen. */
const TEMPERATURE: Record<MachineType, [number, number]> = {
  coffee: [86, 96], snack: [14, 26], combo: [4, 12], water: [5, 10], 'fresh-juice': [2, 6], 'ice-cream': [-24, -16],
};

/** Every 4999th row (from the 18th) carries a TOASTed diagnostic dump. */
export const isBigTelemetry = (i: number): boolean => i % 4999 === 17;

function errorsOf(i: number, r: RowRandom): string[] | null {
  if (i === 4) return null;
  if (i === 5) return [];
  if (i === 6) return [...ERROR_CODES];
  const roll = r.float();
  if (roll < 0.03) return null;
  if (roll < 0.85) return [];
  return Array.from({ length: r.between(1, 3) }, () => r.pick(ERROR_CODES));
}

const NOTES = ['Сбой связи 📡', 'Перезагрузка по watchdog', 'Дверь открыта > 5 мин'].map((n) => JSON.stringify(n));

/**
 * The controller's raw report as JSON, already COPY-escaped. Built with a template rather than
 * JSON.stringify (it runs a million times at scale 100); only the free-text parts need escaping.
 * Kept small on purpose: parsing jsonb is half of PostgreSQL's cost per telemetry row.
 */
function rawData(i: number, r: RowRandom): string {
  const net = `{"type":"${r.chance(0.8) ? '4G' : 'WiFi'}","rssi":${-r.between(45, 110)}}`;
  const water = r.chance(0.3) ? `,"waterL":${r.amount(0, 19, 1)}` : '';
  const note = r.chance(0.01) ? `,"note":${text(r.pick(NOTES))}` : '';
  const big = isBigTelemetry(i) ? `,"diagnostics":${text(JSON.stringify(diagnosticDump(r, 12_000)))}` : '';
  return `{"fw":"2.${r.int(6)}.${r.int(12)}","net":${net},"door":"${r.chance(0.97) ? 'closed' : 'open'}","cash":{"coins":${r.int(400)},"bills":${r.int(120)}},"cells":[${r.int(30)},${r.int(30)},${r.int(30)}]${water}${note}${big}}`;
}

/**
 * Machine telemetry, the big table: every machine reports once per tick, ticks spread evenly
 * over the history, so row i is machine i mod M at tick i div M (with millisecond jitter).
 */
export function telemetryRows(ctx: MonolithContext): RowSource {
  const r = ctx.random('MachineTelemetry');
  const count = ctx.counts.MachineTelemetry;
  const machines = ctx.ids.Machine;
  const types = machineTypes(ctx);
  const tickMs = HISTORY_SPAN / Math.ceil(count / machines.length);
  const id = ctx.idFactory('MachineTelemetry');
  return {
    table: 'MachineTelemetry',
    columns: ['id', 'machineId', 'temperature', 'humidity', 'sales', 'errors', 'rawData', 'createdAt'],
    count,
    row(i) {
      r.at(i);
      const m = i % machines.length;
      const created = Math.floor(HISTORY_START + Math.floor(i / machines.length) * tickMs + r.float() * tickMs);
      const [lo, hi] = TEMPERATURE[types[m] as MachineType];
      const temperature = i === 1 || r.chance(0.02) ? null : r.amount(lo, hi);
      const humidity = i === 2 || r.chance(0.05) ? null : r.amount(25, 85, 1);
      const sales = i === 3 || r.chance(0.03) ? null : r.int(13);
      const errors = errorsOf(i, r);
      return `${id(i)}\t${machines[m]}\t${nullableNumber(temperature)}\t${nullableNumber(humidity)}\t${nullableNumber(sales)}\t${array(errors)}\t${rawData(i, r)}\t${timestamp(created)}\n`;
    },
  };
}
