import type { Env } from '../config/database-config.ts';
import type { Output } from './output.ts';

/** What a command adapter gets besides its arguments. */
export interface CommandContext {
  readonly env: Env;
  readonly output: Output;
  readonly json: boolean;
}
