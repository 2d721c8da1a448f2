import { pipeline } from 'node:stream/promises';
import type pg from 'pg';
import { from as copyFrom, to as copyTo } from 'pg-copy-streams';
import { withTransaction, type PooledDatabase } from '../db/with-database.ts';
import { qualified, quoteIdent, quoteLiteral } from '../sql/quote.ts';
import { markChunkDone, type ChunkRecord } from './checkpoint-store.ts';
import type { TableMapping } from './split-plan.ts';

/** The SELECT that reads one chunk of a table from the source, through the mapping. */
export function chunkSelect(t: TableMapping, chunk: Pick<ChunkRecord, 'lo' | 'hi'>, filters: readonly string[] = []): string {
  const where = [...filters];
  if (t.sourceKey) {
    const key = `s.${quoteIdent(t.sourceKey)}`;
    if (chunk.lo !== null) where.push(`${key} > ${quoteLiteral(chunk.lo)}`);
    if (chunk.hi !== null) where.push(`${key} <= ${quoteLiteral(chunk.hi)}`);
  }
  const cols = t.columns.map((c) => {
    const v = c.kind === 'column' ? `s.${c.sourceSql}` : c.sourceSql;
    // A loss the plan file accepted happens here, explicitly (a cast cuts a string COPY would refuse).
    return `${c.acceptedLoss !== undefined && c.targetType ? `(${v})::${c.targetType}` : v} AS ${quoteIdent(c.target)}`;
  }).join(', ');
  return `SELECT ${cols} FROM ${qualified(t.sourceSchema, t.sourceTable)} s${where.length ? ` WHERE ${where.map((w) => `(${w})`).join(' AND ')}` : ''}`;
}

export function copyInSql(t: TableMapping): string {
  const cols = t.columns.map((c) => quoteIdent(c.target)).join(', ');
  return `COPY ${qualified(t.targetSchema, t.targetTable)} (${cols}) FROM STDIN WITH (FORMAT ${t.format})`;
}

/**
 * Streams one chunk from the source into the target with COPY, no intermediate file and bounded
 * memory (pipeline backpressure), and marks the chunk done in the same target transaction, so a
 * chunk is either fully there and recorded, or absent and pending. Returns the rows copied.
 * The target transaction is one `withTransaction` on `target` (a connection of its pool).
 */
export async function copyChunk(
  source: pg.ClientBase, target: PooledDatabase, runId: string, t: TableMapping, chunk: ChunkRecord, filters: readonly string[],
  onBytes?: (n: number) => void,
): Promise<number> {
  const started = performance.now();
  return withTransaction(target, async (tc) => {
    const inbound = tc.query(copyFrom(copyInSql(t)));
    const outbound = source.query(copyTo(`COPY (${chunkSelect(t, chunk, filters)}) TO STDOUT WITH (FORMAT ${t.format})`));
    if (onBytes) outbound.on('data', (b: Buffer) => onBytes(b.length));
    await pipeline(outbound, inbound);
    const rows = Number((inbound as unknown as { rowCount: number }).rowCount);
    await markChunkDone(tc, runId, t.model, chunk.chunkNo, rows, performance.now() - started);
    return rows;
  });
}
