import type pg from 'pg';
import { wrapPgError } from '../errors/pg-errors.ts';
import { VendhubError } from '../errors/vendhub-error.ts';
import type { ChunkRecord } from './checkpoint-store.ts';
import { copyChunk } from './copy-chunk.ts';
import { buildDeferred, locksOf, type DeferredObject } from './deferred-indexes.ts';
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
  /** Indexes and constraints dropped before the copy (see deferred-indexes), built after their tables' data. */
  readonly deferred?: readonly DeferredObject[];
  /** Connections building deferred objects, besides the `parallel` copying ones. */
  readonly indexJobs?: number;
}

export interface ScheduleResult {
  /** Rows copied per model by this run (resumed chunks not included). */
  readonly copied: ReadonlyMap<string, number>;
  readonly durations: ReadonlyMap<string, number>;
  readonly interrupted: boolean;
  /** Deferred objects built by this run. */
  readonly built: number;
}

/**
 * Runs chunks on `parallel` workers. A table starts once the tables it references inside its
 * service are complete (foreign keys hold at every commit); among ready tables the largest go first.
 * On abort no new chunk starts and in-flight chunks finish; on the first failure the others finish
 * their chunk and the error is thrown, with every finished chunk kept for --resume.
 * Deferred indexes and constraints are built by `indexJobs` more workers as soon as their tables'
 * data is complete, while other tables are still being copied (like pg_restore's index jobs).
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
  const pendingObjects = (inp.deferred ?? []).filter((o) => o.status === 'pending');
  const doneObjects = new Set((inp.deferred ?? []).filter((o) => o.status === 'done').map((o) => `${o.model}\u0000${o.seq}`));
  const running: DeferredObject[] = [];
  let copyWorkers = Math.max(1, inp.parallel);
  let built = 0;
  const objectReady = (o: DeferredObject): boolean => {
    if (states.get(o.model)?.complete === false) return false;
    if (o.kind === 'key' && !(inp.deferred ?? []).some((x) => x.model === o.model && x.kind === 'index' && x.name === o.name && doneObjects.has(`${x.model}\u0000${x.seq}`))) return false;
    if (o.kind === 'foreign-key' && o.refModel !== null) {
      if (states.get(o.refModel)?.complete === false) return false;
      if ((inp.deferred ?? []).some((x) => x.model === o.refModel && x.kind !== 'foreign-key' && !doneObjects.has(`${x.model}\u0000${x.seq}`))) return false;
    }
    const held = running.flatMap(locksOf);
    return locksOf(o).every((l) => !held.some((h) => h.table === l.table && (h.exclusive || l.exclusive)));
  };
  const indexWorker = async () => {
    while (!stop() && pendingObjects.length > 0) {
      const i = pendingObjects.findIndex(objectReady);
      if (i < 0) {
        if (copyWorkers === 0 && running.length === 0) break; // what is left waits on tables this run did not finish
        await changed;
        continue;
      }
      const [o] = pendingObjects.splice(i, 1) as [DeferredObject];
      running.push(o);
      const s = states.get(o.model);
      const target = inp.ctx.targetFor((s as TableState).t.service);
      const started = performance.now();
      let tc: pg.PoolClient | undefined;
      try {
        tc = await target.pool.connect();
        await buildDeferred(tc, inp.runId, o);
        doneObjects.add(`${o.model}\u0000${o.seq}`);
        built++;
        inp.emit({ type: 'index-done', model: o.model, kind: o.kind, name: o.name, durationMs: performance.now() - started });
      } catch (e) {
        tc?.release(true);
        tc = undefined;
        failure ??= new VendhubError('COPY_FAILED', `building ${o.kind} ${o.name} of ${o.table} after its data failed: ${wrapPgError(e, target.label, [...inp.ctx.secrets]).message}`, {
          cause: e, details: { model: o.model, object: o.name, kind: o.kind, table: o.table },
          hint: 'The copied rows are kept and the indexes and constraints not yet built stay recorded; fix the cause (e.g. rows that break the constraint) and run again with --resume.',
        });
      } finally {
        tc?.release();
        running.splice(running.indexOf(o), 1);
        notify();
      }
    }
  };
  const copyWorker = async () => {
    try {
      await worker();
    } finally {
      copyWorkers--;
      notify();
    }
  };
  const indexJobs = pendingObjects.length > 0 ? Math.max(1, inp.indexJobs ?? inp.parallel) : 0;
  await Promise.all([...Array.from({ length: Math.max(1, inp.parallel) }, copyWorker), ...Array.from({ length: indexJobs }, indexWorker)]);
  if (failure !== undefined) throw failure;
  const copied = new Map([...states.values()].map((s) => [s.t.model, s.rows]));
  const interrupted = remaining() || pendingObjects.length > 0;
  if (interrupted && !inp.signal?.aborted) {
    throw new VendhubError('COPY_FAILED', `the copy ended with work left that nothing could start: ${pendingObjects.map((o) => `${o.kind} ${o.name} of ${o.table}`).join(', ')}`);
  }
  return { copied, durations, interrupted, built };
}
