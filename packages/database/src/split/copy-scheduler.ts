import type pg from 'pg';
import { wrapPgError } from '../errors/pg-errors.ts';
import { VendhubError } from '../errors/vendhub-error.ts';
import type { ChunkRecord } from './checkpoint-store.ts';
import { copyChunk } from './copy-chunk.ts';
import { buildDeferred, locksOf, type DeferredObject } from './deferred-indexes.ts';
import { releaseSnapshotClient, type SnapshotClient, type SourceSnapshot } from './snapshot.ts';
import type { SplitContext } from './split-context.ts';
import type { SplitListener } from './split-events.ts';
import type { TableMapping } from './split-plan.ts';
import { holdYoungGeneration } from './young-generation.ts';

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
 * Holds V8's young generation at its size for the rest of the process (young-generation.ts).
 */
export async function runChunks(inp: ScheduleInput): Promise<ScheduleResult> {
  holdYoungGeneration();
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
  const copying = () => [...states.values()].some((s) => s.inFlight > 0);

  const objects = new IndexJobs(inp.deferred ?? [], (model) => states.get(model)?.complete !== false);
  let built = 0;

  const copyOne = async (job: { s: TableState; chunk: ChunkRecord }, src: () => Promise<pg.PoolClient>, dropSrc: () => Promise<void>) => {
    const { s, chunk } = job;
    s.inFlight++;
    const label = `${s.t.sourceTable} → ${s.t.targetSchema}.${s.t.targetTable} chunk ${chunk.chunkNo} (keys ${chunk.lo ?? '-∞'} .. ${chunk.hi ?? '+∞'})`;
    const target = inp.ctx.targetFor(s.t.service);
    try {
      const sc = await src();
      const rows = await copyChunk(sc, target, inp.runId, s.t, chunk, inp.filters.get(s.t.model) ?? []);
      s.rows += rows;
      inp.emit({ type: 'chunk-done', model: s.t.model, chunkNo: chunk.chunkNo, rows });
    } catch (e) {
      await dropSrc();
      failure ??= new VendhubError('COPY_FAILED', `copy failed at ${label}: ${wrapPgError(e, target.label, [...inp.ctx.secrets]).message}`, {
        cause: e, details: { model: s.t.model, chunk: chunk.chunkNo, table: `${s.t.targetSchema}.${s.t.targetTable}` },
        hint: 'Finished chunks are kept; fix the cause and run again with --resume.',
      });
    } finally {
      s.inFlight--;
      if (s.pending.length === 0 && s.inFlight === 0 && failure === undefined && !s.complete) {
        s.complete = true;
        durations.set(s.t.model, performance.now() - (s.started ?? performance.now()));
        inp.emit({ type: 'table-done', model: s.t.model, rows: s.rows, durationMs: durations.get(s.t.model) as number });
      }
      notify();
    }
  };

  const buildOne = async (o: DeferredObject) => {
    const target = inp.ctx.targetFor((states.get(o.model) as TableState).t.service);
    const started = performance.now();
    try {
      await buildDeferred(target, inp.runId, o);
      objects.done(o);
      built++;
      inp.emit({ type: 'index-done', model: o.model, kind: o.kind, name: o.name, durationMs: performance.now() - started });
    } catch (e) {
      objects.failed(o);
      failure ??= new VendhubError('COPY_FAILED', `building ${o.kind} ${o.name} of ${o.table} after its data failed: ${wrapPgError(e, target.label, [...inp.ctx.secrets]).message}`, {
        cause: e, details: { model: o.model, object: o.name, kind: o.kind, table: o.table },
        hint: 'The copied rows are kept and the indexes and constraints not yet built stay recorded; fix the cause (e.g. rows that break the constraint) and run again with --resume.',
      });
    } finally {
      notify();
    }
  };

  /** A copy worker takes chunks first and deferred objects when no chunk is ready; an index worker only objects. */
  const worker = async (copies: boolean) => {
    let src: SnapshotClient | undefined;
    const openSrc = async () => (src ??= await inp.snapshot.open()).client;
    const dropSrc = async () => {
      if (src) await releaseSnapshotClient(src, true);
      src = undefined;
    };
    try {
      while (!stop() && (remaining() || objects.pending() > 0)) {
        const job = copies ? next() : undefined;
        if (job) {
          await copyOne(job, openSrc, dropSrc);
          continue;
        }
        const o = objects.take();
        if (o) {
          await buildOne(o);
          continue;
        }
        if (!copying() && objects.running() === 0) {
          if (remaining()) failure ??= new VendhubError('PLAN_INVALID', `tables wait on each other: ${[...states.values()].filter((x) => x.pending.length).map((x) => `${x.t.model} → ${x.t.dependsOn.join(', ')}`).join('; ')}`);
          else if (objects.pending() > 0) failure ??= new VendhubError('COPY_FAILED', `indexes and constraints left that nothing could start: ${objects.describePending()}`);
          break;
        }
        await changed;
      }
    } finally {
      if (src) await releaseSnapshotClient(src, false);
    }
  };
  const indexJobs = objects.pending() > 0 ? Math.max(1, inp.indexJobs ?? inp.parallel) : 0;
  await Promise.all([...Array.from({ length: Math.max(1, inp.parallel) }, () => worker(true)), ...Array.from({ length: indexJobs }, () => worker(false))]);
  if (failure !== undefined) throw failure;
  const copied = new Map([...states.values()].map((s) => [s.t.model, s.rows]));
  return { copied, durations, interrupted: remaining() || objects.pending() > 0, built };
}

/** The deferred objects still to build, which of them may start now, and the table locks they hold. */
class IndexJobs {
  private readonly all: readonly DeferredObject[];
  private readonly waiting: DeferredObject[];
  private readonly built = new Set<DeferredObject>();
  private readonly active: DeferredObject[] = [];
  private readonly copied: (model: string) => boolean;

  constructor(all: readonly DeferredObject[], copied: (model: string) => boolean) {
    this.all = all;
    this.copied = copied;
    for (const o of all) if (o.status === 'done') this.built.add(o);
    this.waiting = all.filter((o) => o.status === 'pending');
  }

  pending(): number {
    return this.waiting.length + this.active.length;
  }

  running(): number {
    return this.active.length;
  }

  /** The first object whose tables are copied, whose prerequisites are built and whose locks are free. */
  take(): DeferredObject | undefined {
    const i = this.waiting.findIndex((o) => this.ready(o));
    if (i < 0) return undefined;
    const [o] = this.waiting.splice(i, 1) as [DeferredObject];
    this.active.push(o);
    return o;
  }

  done(o: DeferredObject): void {
    this.built.add(o);
    this.active.splice(this.active.indexOf(o), 1);
  }

  failed(o: DeferredObject): void {
    this.active.splice(this.active.indexOf(o), 1);
    this.waiting.push(o);
  }

  describePending(): string {
    return [...this.active, ...this.waiting].map((o) => `${o.kind} ${o.name} of ${o.table}`).join(', ');
  }

  private ready(o: DeferredObject): boolean {
    if (!this.copied(o.model)) return false;
    // A key is added over its index, built first.
    if (o.kind === 'key' && this.all.some((x) => x.model === o.model && x.kind === 'index' && x.name === o.name && !this.built.has(x))) return false;
    // A foreign key is checked against the referenced table: its rows and keys must be there.
    if (o.kind === 'foreign-key' && o.refModel !== null) {
      if (!this.copied(o.refModel)) return false;
      if (this.all.some((x) => x.model === o.refModel && x.kind !== 'foreign-key' && !this.built.has(x))) return false;
    }
    const held = this.active.flatMap(locksOf);
    return locksOf(o).every((l) => !held.some((h) => h.table === l.table && (h.exclusive || l.exclusive)));
  }
}
