import { redactText } from '../config/redact.ts';
import { isVendhubError } from '../errors/vendhub-error.ts';
import { EXIT } from '../errors/exit-codes.ts';

/** Where commands write; injectable so the CLI can be run in-process by tests and the demo. */
export interface Output {
  out(line: string): void;
  err(line: string): void;
  readonly isTTY: boolean;
}

export const processOutput: Output = {
  out: (l) => process.stdout.write(`${l}\n`),
  err: (l) => process.stderr.write(`${l}\n`),
  get isTTY() {
    return Boolean(process.stderr.isTTY);
  },
};

/** Prints an error once (text or JSON) and returns the documented exit code for it. */
export function reportError(e: unknown, output: Output, json: boolean): number {
  if (isVendhubError(e)) {
    if (json) output.out(JSON.stringify({ ok: false, error: { code: e.code, message: e.message, hint: e.hint, details: e.details } }, null, 2));
    else {
      output.err(`error [${e.code}]: ${e.message}`);
      if (e.hint) output.err(`hint: ${e.hint}`);
    }
    return e.exitCode;
  }
  const msg = redactText(String((e as Error)?.stack ?? e));
  if (json) output.out(JSON.stringify({ ok: false, error: { code: 'INTERNAL', message: redactText(String((e as Error)?.message ?? e)) } }, null, 2));
  else output.err(`internal error: ${msg}`);
  return EXIT.INTERNAL;
}

export function printJson(output: Output, value: unknown): void {
  output.out(JSON.stringify(value, (_k, v) => (typeof v === 'bigint' ? v.toString() : v), 2));
}
