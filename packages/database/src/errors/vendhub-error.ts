import { EXIT } from './exit-codes.ts';

/** Stable error codes; each maps to one documented process exit code. */
export type ErrorCode =
  | 'CONFIG_INVALID'
  | 'USAGE'
  | 'CONNECTION_FAILED'
  | 'AUTH_FAILED'
  | 'PRIVILEGE_MISSING'
  | 'MIGRATION_FAILED'
  | 'MIGRATIONS_NOT_CURRENT'
  | 'DRIFT_DETECTED'
  | 'CLIENT_CLOSED'
  | 'PLAN_INVALID'
  | 'PREFLIGHT_FAILED'
  | 'TARGET_NOT_EMPTY'
  | 'COPY_FAILED'
  | 'VERIFY_MISMATCH'
  | 'INTERRUPTED'
  | 'SOURCE_SCHEMA_CHANGED'
  | 'WRITERS_TIMEOUT'
  | 'SLOT_LOST'
  | 'APPLY_CONFLICT'
  | 'POOL_TIMEOUT'
  | 'TIMEOUT'
  | 'SERVER_START_FAILED'
  | 'CROSS_SERVICE_MODEL'
  | 'INTERNAL';

const EXIT_BY_CODE: Record<ErrorCode, number> = {
  CONFIG_INVALID: EXIT.CONFIG,
  USAGE: EXIT.USAGE,
  CONNECTION_FAILED: EXIT.CONNECTION,
  AUTH_FAILED: EXIT.CONNECTION,
  PRIVILEGE_MISSING: EXIT.PREFLIGHT,
  MIGRATION_FAILED: EXIT.MIGRATION,
  MIGRATIONS_NOT_CURRENT: EXIT.CHECK_FAILED,
  DRIFT_DETECTED: EXIT.CHECK_FAILED,
  CLIENT_CLOSED: EXIT.INTERNAL,
  PLAN_INVALID: EXIT.PLAN,
  PREFLIGHT_FAILED: EXIT.PREFLIGHT,
  TARGET_NOT_EMPTY: EXIT.PREFLIGHT,
  COPY_FAILED: EXIT.COPY,
  VERIFY_MISMATCH: EXIT.VERIFY,
  INTERRUPTED: EXIT.INTERRUPTED,
  SOURCE_SCHEMA_CHANGED: EXIT.SCHEMA_CHANGED,
  WRITERS_TIMEOUT: EXIT.WRITERS_TIMEOUT,
  SLOT_LOST: EXIT.SLOT_LOST,
  APPLY_CONFLICT: EXIT.APPLY_CONFLICT,
  POOL_TIMEOUT: EXIT.CONNECTION,
  TIMEOUT: EXIT.TIMEOUT,
  SERVER_START_FAILED: EXIT.CONNECTION,
  CROSS_SERVICE_MODEL: EXIT.INTERNAL,
  INTERNAL: EXIT.INTERNAL,
};

/**
 * The one error type this package throws on purpose. `code` is stable API; `details` carries
 * structured facts (table, column, variable, sample keys) for `--json` output; `cause` keeps the
 * original error, e.g. a pg `DatabaseError` with its SQLSTATE.
 */
export class VendhubError extends Error {
  readonly code: ErrorCode;
  readonly details: Record<string, unknown>;
  /** What the user should do next, printed after the message by the CLI. */
  readonly hint: string | undefined;

  constructor(code: ErrorCode, message: string, opts: { cause?: unknown; details?: Record<string, unknown>; hint?: string } = {}) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = 'VendhubError';
    this.code = code;
    this.details = opts.details ?? {};
    this.hint = opts.hint;
  }

  get exitCode(): number {
    return EXIT_BY_CODE[this.code];
  }
}

export function isVendhubError(e: unknown): e is VendhubError {
  return e instanceof VendhubError;
}
