/**
 * What every session the tool opens is pinned to, whatever the server, database or role default
 * says (`ALTER DATABASE … SET datestyle = 'SQL, DMY'`, a non-UTC TimeZone, `extra_float_digits =
 * -3` …). Values cross sessions as text (COPY, row hashes, pgoutput on the replication
 * connection): both ends must write and read them the same way, or a date is read day-for-month
 * and a timestamptz → timestamp mapping shifts by the server's offset.
 */
export const PINNED_SETTINGS = Object.freeze({
  DateStyle: 'ISO, MDY',
  IntervalStyle: 'postgres',
  TimeZone: 'UTC',
  extra_float_digits: '3',
  bytea_output: 'hex',
  client_encoding: 'UTF8',
});

export interface SessionOptions {
  /** `default_transaction_read_only = on`: every transaction of the session is READ ONLY. */
  readonly readOnly?: boolean;
  /** The session's search_path (default `public`). */
  readonly searchPath?: string;
}

/** The full list of settings for a session: the pinned ones, search_path, read-only if asked. */
export function sessionSettings(opts: SessionOptions = {}): Readonly<Record<string, string>> {
  const out: Record<string, string> = { ...PINNED_SETTINGS, search_path: opts.searchPath ?? 'public' };
  if (opts.readOnly) out.default_transaction_read_only = 'on';
  return Object.freeze(out);
}

/**
 * The settings as a startup `options` value (`-c name=value …`): applied by the server before the
 * first query, on ordinary and replication connections alike. Spaces and backslashes are escaped
 * as PostgreSQL's options parser expects. Settings given by the user's URL come first, ours win.
 *
 * @example startupOptions({ TimeZone: 'UTC' }) // "-c TimeZone=UTC"
 */
export function startupOptions(settings: Readonly<Record<string, string>>, userOptions?: string): string {
  const ours = Object.entries(settings).map(([k, v]) => `-c ${k}=${v.replace(/[\\ ]/g, (m) => `\\${m}`)}`);
  return [userOptions, ...ours].filter((s) => s !== undefined && s !== '').join(' ');
}

/**
 * The same settings as SET statements, for connections where startup `options` cannot be used
 * (PgBouncer refuses unknown startup parameters). Run once on each new server session.
 */
export function setStatements(settings: Readonly<Record<string, string>>): string {
  return Object.entries(settings).map(([k, v]) => `SET ${k} = '${v.replace(/'/g, "''")}'`).join('; ');
}
