import type { Command, Option } from 'commander';
import type { CommandContext } from './context.ts';

export interface Registrar {
  ctx: () => CommandContext;
  run: (fn: () => Promise<number>) => () => Promise<void>;
  jsonOpt: () => Option;
}

/** The split's commands (`split plan|run|verify`, `demo`); filled in by the split module. */
export function registerSplitCommands(_program: Command, _r: Registrar): void {}
