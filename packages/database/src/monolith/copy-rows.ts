import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import { quoteIdent } from '../sql/quote.ts';

/** One table's worth of generated rows: `row(i)` returns the COPY text line of row i. */
export interface RowSource {
  readonly table: string;
  readonly columns: readonly string[];
  readonly count: number;
  row(i: number): string;
}

const CHUNK_CHARS = 64 * 1024;
const REPORT_EVERY = 100_000;

/** Rows [from, to) of a source. */
export interface RowRange {
  readonly from: number;
  readonly to: number;
}

/**
 * Streams rows `range` of `source` into its table with `COPY ... FROM STDIN` (text format). Rows
 * are produced lazily in ~64 kB chunks and `pipeline` waits for the socket to drain, so memory
 * stays flat whatever the row count; on any failure pipeline destroys both ends, ending the COPY.
 * `onRows` hears how many more rows were produced, every 100,000 rows and at the end.
 */
export async function copyRows(
  client: pg.ClientBase,
  source: RowSource,
  range: RowRange = { from: 0, to: source.count },
  onRows?: (moreRows: number) => void,
): Promise<void> {
  const sql = `COPY ${quoteIdent(source.table)} (${source.columns.map(quoteIdent).join(', ')}) FROM STDIN`;
  let reported = range.from;
  const report = (upTo: number): void => {
    if (upTo > reported) onRows?.(upTo - reported);
    reported = upTo;
  };
  await pipeline(Readable.from(chunks(source, range, report)), client.query(copyFrom(sql)));
  report(range.to);
}

function* chunks(source: RowSource, range: RowRange, report: (upTo: number) => void): Generator<string> {
  let buf = '';
  for (let i = range.from; i < range.to; i++) {
    buf += source.row(i);
    if (buf.length >= CHUNK_CHARS) {
      yield buf;
      buf = '';
    }
    if ((i + 1) % REPORT_EVERY === 0) report(i + 1);
  }
  if (buf) yield buf;
}
