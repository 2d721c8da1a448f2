/** What `services check` reports. Stable names: they are SARIF rule ids and the expected-findings format. */
export const FINDING_KINDS = [
  'foreign-model',
  'cross-service-include',
  'cross-service-count',
  'cross-service-where',
  'cross-service-orderby',
  'cross-service-nested-write',
  'cross-service-connect',
  'cross-service-transaction',
  'raw-sql-foreign-table',
  'soft-reference-write',
  'unknown-model',
  'unknown-field',
  'unparsable',
] as const;
export type FindingKind = (typeof FINDING_KINDS)[number];

/** One problem at one place. Line and column are 1-based, as editors and SARIF count. */
export interface Finding {
  readonly file: string;
  readonly line: number;
  readonly column: number;
  readonly endLine: number;
  readonly endColumn: number;
  readonly kind: FindingKind;
  /** Models involved, the queried one first (`['Task', 'User']` for `task … include assignedTo`). */
  readonly models: readonly string[];
  /** The service the call runs in (the client's, else the file's by path), if known. */
  readonly service: string | undefined;
  readonly message: string;
  /** What to do instead, in one sentence. */
  readonly fix: string;
  /** True when `services fix` rewrites it. */
  readonly autofix: boolean;
}

/** A text replacement the codemod applies: `[start, end)` in the file's text. */
export interface TextEdit {
  readonly start: number;
  readonly end: number;
  readonly text: string;
}

/** Per-kind description and SARIF level: a break at run time is an error, lost integrity a warning. */
export const KIND_INFO: Readonly<Record<FindingKind, { level: 'error' | 'warning'; title: string }>> = Object.freeze({
  'foreign-model': { level: 'error', title: "a model another service owns, used through this service's (or the shared) client" },
  'cross-service-include': { level: 'error', title: 'include/select through a relation that crosses services' },
  'cross-service-count': { level: 'error', title: '_count of a relation that crosses services' },
  'cross-service-where': { level: 'error', title: 'a filter through a relation that crosses services' },
  'cross-service-orderby': { level: 'error', title: 'orderBy through a relation that crosses services' },
  'cross-service-nested-write': { level: 'error', title: 'a nested write into another service' },
  'cross-service-connect': { level: 'error', title: 'connect/disconnect/set of a relation that crosses services' },
  'cross-service-transaction': { level: 'error', title: 'one $transaction over models of several services' },
  'raw-sql-foreign-table': { level: 'error', title: "raw SQL naming another service's table" },
  'soft-reference-write': { level: 'warning', title: 'a write to a column whose foreign key the split removed (integrity is now the application\'s)' },
  'unknown-model': { level: 'error', title: 'a model that exists in no schema' },
  'unknown-field': { level: 'error', title: 'a field that exists in no schema' },
  unparsable: { level: 'error', title: 'a file that does not parse (not analysed)' },
});
