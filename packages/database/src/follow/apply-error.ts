import type pg from 'pg';
import { wrapPgError } from '../errors/pg-errors.ts';
import { VendhubError } from '../errors/vendhub-error.ts';
import { connectionLost } from '../db/database-handle.ts';
import type { Change } from './change-applier.ts';

const resumeHint = 'then run `vendhub-db split follow` again (or `split follow-back` for the reverse stream): it resumes with this change.';

/**
 * Why a change could not be applied, naming the database, the table and the key: a lost
 * connection stays CONNECTION_FAILED (exit 4); a constraint the change breaks in the target is an
 * APPLY_CONFLICT (exit 14); a value the target's type refuses (an enum label, a changed type)
 * stays COPY_FAILED (exit 9), each with what to do.
 */
export function applyError(e: unknown, where: string, ch: Change | undefined, secrets: readonly string[], c?: pg.ClientBase): VendhubError {
  if (e instanceof VendhubError) return e;
  const cause = (c && connectionLost(c)) ?? e;
  const wrapped = wrapPgError(cause, where, [...secrets]);
  if (wrapped.code === 'CONNECTION_FAILED' || wrapped.code === 'AUTH_FAILED' || wrapped.code === 'POOL_TIMEOUT' || !ch) return wrapped;
  if (/not queryable|Connection terminated/i.test(String((cause as Error)?.message))) {
    return new VendhubError('CONNECTION_FAILED', wrapped.message, { cause, details: wrapped.details, hint: `The connection to ${where} was lost; ${resumeHint}` });
  }
  const sqlstate = String((cause as { code?: string })?.code ?? '');
  const what = describe(ch);
  const details = { ...wrapped.details, ...what.details };
  const message = `${where}: applying ${what.text} failed: ${wrapped.message.slice(where.length + 2)}`;
  if (sqlstate.startsWith('23')) {
    return new VendhubError('APPLY_CONFLICT', message, {
      cause, details, hint: `The target's row differs from the source's (written outside the follower?). Make the target row agree with the source (the message names it), ${resumeHint}`,
    });
  }
  const typeHint = sqlstate === '22P02' || sqlstate.startsWith('42')
    ? 'The target does not take a value the source now sends (an enum label or a type a deploy changed on the source): change the service schema, create a new migration and run `vendhub-db migrate` for that service; '
    : 'Fix the cause in the target, ';
  return new VendhubError('COPY_FAILED', message, { cause, details, hint: `${typeHint}${resumeHint}` });
}

function describe(ch: Change): { text: string; details: Record<string, unknown> } {
  if (ch.op === 'truncate') return { text: `TRUNCATE ${ch.tables.map((t) => t.targetName).join(', ')}`, details: { tables: ch.tables.map((t) => t.targetName) } };
  const row = ch.op === 'delete' ? ch.key : ch.old && ch.table.keyChanged(ch.old, ch.row) ? ch.old : ch.row;
  const key = ch.table.keyOf(row);
  const keyText = `(${Object.keys(key).join(', ')})=(${Object.values(key).join(', ')})`;
  const verb = ch.op === 'delete' ? 'a delete' : ch.old && ch.table.keyChanged(ch.old, ch.row) ? `a key change to ${JSON.stringify(ch.table.keyOf(ch.row))}` : 'an insert/update';
  return { text: `${verb} of ${ch.table.targetName} key ${keyText}`, details: { table: ch.table.targetName, key } };
}
