import { cuidFactory } from './cuid.ts';
import type { MonolithCounts } from './monolith-counts.ts';
import { RowRandom, salt } from './row-random.ts';

const DAY = 86_400_000;

/** Fleet and staff were set up over the autumn and winter before the history starts. */
export const SETUP_START = Date.UTC(2025, 8, 1);
/** Operational history (telemetry, tasks, sales) spans about nine months. */
export const HISTORY_START = Date.UTC(2026, 2, 1);
export const HISTORY_END = Date.UTC(2026, 10, 27);
export const SETUP_SPAN = HISTORY_START - SETUP_START;
export const HISTORY_SPAN = HISTORY_END - HISTORY_START;
export { DAY };

/** Ids of the tables other tables point at, computed once per build (Task, the largest, has 40 per unit of scale). */
export interface ParentIds {
  readonly User: readonly string[];
  readonly Location: readonly string[];
  readonly Machine: readonly string[];
  readonly InventoryItem: readonly string[];
  readonly Task: readonly string[];
}

/** Everything a row generator needs besides its row number. */
export interface MonolithContext {
  readonly seed: number;
  readonly counts: MonolithCounts;
  readonly ids: ParentIds;
  /** Transaction rows whose machineId names no machine. */
  readonly danglingTransactions: number;
  /** A fresh row-keyed generator for one table. */
  random(table: string): RowRandom;
  /** The id of row i of a table (parents and leaves alike). */
  idFactory(table: string): (row: number) => string;
  /** A machine id that no Machine row has: its time block predates every real machine id. */
  danglingMachineId(row: number): string;
}

/** Where a table's rows sit in time: [start, start + span), creation time increasing with the row. */
export const TIME_WINDOWS: Record<string, { start: number; span: number }> = {
  Location: { start: SETUP_START, span: SETUP_SPAN / 2 },
  User: { start: SETUP_START, span: SETUP_SPAN },
  InventoryItem: { start: SETUP_START, span: SETUP_SPAN / 2 },
  Machine: { start: SETUP_START + SETUP_SPAN / 4, span: (SETUP_SPAN * 3) / 4 },
  MachineInventory: { start: HISTORY_START - 14 * DAY, span: 14 * DAY },
};

/** The window of `table`, defaulting to the operational history. */
export function timeWindow(table: string): { start: number; span: number } {
  return TIME_WINDOWS[table] ?? { start: HISTORY_START, span: HISTORY_SPAN };
}

/**
 * Creation time of row i of `count`: rows spread evenly over the table's window, each jittered
 * inside its own slot, so times increase with the row and carry real millisecond parts.
 */
export function createdAtOf(table: string, count: number, r: RowRandom): (row: number) => number {
  const { start, span } = timeWindow(table);
  const slot = span / count;
  return (row) => Math.floor(start + row * slot + r.float() * slot);
}

/** The generation context of one build: ids of every parent row, computed once, and row-keyed generators. */
export function createContext(seed: number, counts: MonolithCounts, danglingTransactions: number): MonolithContext {
  const idFactory = (table: string): ((row: number) => string) => {
    const { start, span } = timeWindow(table);
    const count = (counts as unknown as Record<string, number>)[table] ?? 1;
    return cuidFactory(seed, table, Math.floor(start), Math.max(1, Math.floor(span / count)));
  };
  const listOf = (table: keyof ParentIds): string[] => {
    const id = idFactory(table);
    return Array.from({ length: counts[table] }, (_, i) => id(i));
  };
  const dangling = cuidFactory(seed, 'Machine', Math.floor(SETUP_START - 400 * DAY), 1000);
  return {
    seed,
    counts,
    danglingTransactions,
    ids: {
      User: listOf('User'),
      Location: listOf('Location'),
      Machine: listOf('Machine'),
      InventoryItem: listOf('InventoryItem'),
      Task: listOf('Task'),
    },
    random: (table) => new RowRandom(seed, salt(table)),
    idFactory,
    danglingMachineId: dangling,
  };
}
