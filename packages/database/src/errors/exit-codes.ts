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
  /** A database could not be reached, or refused the credentials (or TLS); the demo's embedded server could not start. */
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
  /** `split follow`: a followed source table changed shape (column added, renamed, dropped; table renamed); resumable after the fix. */
  SCHEMA_CHANGED: 11,
  /** `split cutover`/`rollback`: write transactions did not finish within the writers timeout; the fence stays. */
  WRITERS_TIMEOUT: 12,
  /** The replication slot was invalidated, dropped or replaced: changes were lost; start again after `split abort`. */
  SLOT_LOST: 13,
  /** A streamed change conflicts with a target row (unique key, foreign key, not null, check); resumable after the fix. */
  APPLY_CONFLICT: 14,
  /** An expected wait ran out (writers did not stop, targets did not catch up, a slot stayed busy); nothing half-done. */
  TIMEOUT: 15,
  /** `services check` found calls that break or lose integrity after the split. */
  SERVICES_FINDINGS: 20,
  /** `services check`/`fix`: a file did not parse, so the analysis is incomplete. */
  SERVICES_UNANALYSED: 21,
  /** Interrupted (Ctrl-C / SIGTERM) at a chunk boundary; resumable with `--resume`. */
  INTERRUPTED: 130,
});

export const EXIT_CODE_HELP = `Exit codes:
  0    success
  1    unexpected internal error
  2    bad command line
  3    configuration invalid (the message names the variable)
  4    a database is unreachable or refused the credentials or TLS; the demo's embedded server could not start
  5    a migration failed to apply
  6    status/drift: something is pending, failed, edited or drifted
  7    split plan invalid (unmapped table or column, malformed plan file)
  8    preflight refused (privileges, row-level security, target not migrated or not empty, bad rows,
       a lossy mapping not accepted in the plan file, an expression that fails or writes)
  9    copy failed part-way (run again with --resume)
  10   verify found a difference between source and targets
  11   follow: a source table changed shape (the message names table, column and the fix; then resume)
  12   cutover/rollback: writers did not finish within the timeout (the fence stays: retry or abort)
  13   follow/cutover: the replication slot was lost (invalidated, dropped or recreated): abort, start again
  14   follow: a change conflicts with a target row (the message names table and key; fix, then resume)
  15   a wait timed out (writers did not stop, catch-up, slot in use); the fence or state is as the message says
  20   services check: findings (calls that break or lose integrity after the split)
  21   services check/fix: a file did not parse (reported; the analysis is incomplete)
  130  interrupted at a chunk boundary (run again with --resume)`;
