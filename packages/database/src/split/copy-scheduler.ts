import type pg from 'pg';
import { wrapPgError } from '../errors/pg-errors.ts';
import { VendhubError } from '../errors/vendhub-error.ts';
import type { ChunkRecord } from './checkpoint-store.ts';
import { copyChunk } from './copy-chunk.ts';
import { releaseSnapshotClient, type SourceSnapshot } from './snapshot.ts';
import type { SplitContext } from './split-context.ts';
import type { SplitListener } from './split-events.ts';
import type { TableMapping } from './split-plan.ts';

interface TableState {
  readonly t: TableMapping;
  readonly pending: ChunkRecord[];
  inFlight: number;
  rows: number;
  started: number | undefined;
  complete: boolean;
}

export interface ScheduleInput {
  readonly ctx: SplitContext;
  readonly snapshot: SourceSnapshot;
  readonly runId: string;
  readonly tables: readonly { t: TableMapping; chunks: readonly ChunkRecord[] }[];
  readonly filters: ReadonlyMap<string, readonly string[]>;
  readonly parallel: number;
  readonly signal: AbortSignal | undefined;
  readonly emit: SplitListener;
}

export interface ScheduleResult {
  /** Rows copied per model by this run (resumed chunks not included). */
  readonly copied: ReadonlyMap<string, number>;
  readonly durations: ReadonlyMap<string, number>;
  readonly interrupted: boolean;
}

/**
 * Runs chunks on `parallel` workers. A table starts once the tables it references inside its
 * service are complete (foreign keys hold at every commit); among ready tables the largest go first.
 * On abort no new chunk starts and in-flight chunks finish; on the first failure the others finish
 * their chunk and the error is thrown, with every finished chunk kept for --resume.
 */
export async function runChunks(inp: ScheduleInput): Promise<ScheduleResult> {
  const states = new Map<string, TableState>();
  for (const { t, chunks } of inp.tables) {
    const pending = chunks.filter((c) => c.status === 'pending');
    states.set(t.model, { t, pending, inFlight: 0, rows: 0, started: undefined, complete: pending.length === 0 });
  }
  const durations = new Map<string, number>();
  let failure: unknown;
  let wake: () => void = () => {};
  let changed = new Promise<void>((r) => (wake = r));
  const notify = () => {
    const w = wake;
    changed = new Promise<void>((r) => (wake = r));
    w();
  };
  const stop = () => failure !== undefined || inp.signal?.aborted === true;
  inp.signal?.addEventListener('abort', notify, { once: true });

  const ready = (s: TableState) => s.pending.length > 0 && s.t.dependsOn.every((d) => states.get(d)?.complete !== false);
  const next = (): { s: TableState; chunk: ChunkRecord } | undefined => {
    const candidates = [...states.values()].filter(ready).sort((a, b) => b.t.estimate - a.t.estimate);
    const s = candidates[0];
    if (!s) return undefined;
    if (s.started === undefined) {
      s.started = performance.now();
      inp.emit({ type: 'table-copying', model: s.t.model });
    }
    return { s, chunk: s.pending.shift() as ChunkRecord };
  };
  const remaining = () => [...states.values()].some((s) => s.pending.length > 0);

  const worker = async () => {
    let src: pg.PoolClient | undefined;
    try {
      while (!stop() && remaining()) {
        const job = next();
        if (!job) {
          if ([...states.values()].every((x) => x.inFlight === 0)) {
            failure ??= new VendhubError('PLAN_INVALID', `tables wait on each other: ${[...states.values()].filter((x) => x.pending.length).map((x) => `${x.t.model} → ${x.t.dependsOn.join(', ')}`).join('; ')}`);
            break;
          }
          await changed;
          continue;
        }
        const { s, chunk } = job;
        s.inFlight++;
        const label = `${s.t.sourceTable} → ${s.t.targetSchema}.${s.t.targetTable} chunk ${chunk.chunkNo} (keys ${chunk.lo ?? '-∞'} .. ${chunk.hi ?? '+∞'})`;
        const target = inp.ctx.targetFor(s.t.service);
        let tc: pg.PoolClient | undefined;
        try {
          src ??= await inp.snapshot.open();
          tc = await target.pool.connect();
          const rows = await copyChunk(src, tc, inp.runId, s.t, chunk, inp.filters.get(s.t.model) ?? []);
          s.rows += rows;
          inp.emit({ type: 'chunk-done', model: s.t.model, chunkNo: chunk.chunkNo, rows });
        } catch (e) {
          if (src) await releaseSnapshotClient(src, true);
          src = undefined;
          tc?.release(true);
          tc = undefined;
          failure ??= new VendhubError('COPY_FAILED', `copy failed at ${label}: ${wrapPgError(e, target.label, [...inp.ctx.secrets]).message}`, {
            cause: e, details: { model: s.t.model, chunk: chunk.chunkNo, table: `${s.t.targetSchema}.${s.t.targetTable}` },
            hint: 'Finished chunks are kept; fix the cause and run again with --resume.',
          });
        } finally {
          tc?.release();
          s.inFlight--;
          if (s.pending.length === 0 && s.inFlight === 0 && failure === undefined && !s.complete) {
            s.complete = true;
            durations.set(s.t.model, performance.now() - (s.started ?? performance.now()));
            inp.emit({ type: 'table-done', model: s.t.model, rows: s.rows, durationMs: durations.get(s.t.model) as number });
          }
          notify();
        }
      }
    } finally {
      if (src) await releaseSnapshotClient(src, false);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, inp.parallel) }, worker));
  if (failure !== undefined) throw failure;
  const copied = new Map([...states.values()].map((s) => [s.t.model, s.rows]));
  return { copied, durations, interrupted: remaining() };
}
