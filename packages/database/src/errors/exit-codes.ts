/**
 * Process exit codes of `vendhub-db`. Public API: documented in the README and in `--help`.
 */
export const EXIT = Object.freeze({
  OK: 0,
  /** Unexpected failure (a bug or an unclassified error). */
  INTERNAL: 1,
  /** Bad command line. */
  USAGE: 2,
  /** Configuration (environment variables) invalid or missing. */
  CONFIG: 3,
  /** A database could not be reached, or refused the credentials. */
  CONNECTION: 4,
  /** A migration failed to apply. */
  MIGRATION: 5,
  /** `status` or `drift` found something not current (pending, failed, edited, drifted). */
  CHECK_FAILED: 6,
  /** The split plan is invalid: unmapped table/column, malformed plan file. */
  PLAN: 7,
  /** Preflight refused the run: privileges, RLS, target not migrated or not empty, bad data, unaccepted loss. */
  PREFLIGHT: 8,
  /** The copy failed part-way; the targets are resumable with `--resume`. */
  COPY: 9,
  /** `verify` found source and targets different. */
  VERIFY: 10,
  /** Interrupted (Ctrl-C / SIGTERM) at a chunk boundary; resumable with `--resume`. */
  INTERRUPTED: 130,
});

export const EXIT_CODE_HELP = `Exit codes:
  0    success
  1    unexpected internal error
  2    bad command line
  3    configuration invalid (the message names the variable)
  4    a database is unreachable or refused the credentials
  5    a migration failed to apply
  6    status/drift: something is pending, failed, edited or drifted
  7    split plan invalid (unmapped table or column, malformed plan file)
  8    preflight refused (privileges, row-level security, target not migrated or not empty, bad rows,
       a lossy mapping not accepted in the plan file, an expression that fails or writes)
  9    copy failed part-way (run again with --resume)
  10   verify found a difference between source and targets
  130  interrupted at a chunk boundary (run again with --resume)`;
