import cliProgress from 'cli-progress';
import type { SplitEvent, SplitListener } from './split-events.ts';

interface TableProgress {
  total: number;
  done: number;
  startedAt: number | undefined;
  lastLine: number;
  bar: cliProgress.SingleBar | undefined;
}

const fmt = (n: number) => Math.round(n).toLocaleString('en-US');
const eta = (left: number, rate: number) => (rate > 0 && left > 0 ? `${Math.ceil(left / rate)}s` : '-');

/** Where progress lines go (the CLI's Output fits; split/ does not depend on cli/). */
export interface ProgressOutput {
  err(line: string): void;
  readonly isTTY: boolean;
}

/**
 * Per-table progress (rows, rows/s, ETA): bars on a terminal, a plain line at most every few
 * seconds per table otherwise (CI logs, pipes). Returns the listener and a `stop()` to call once.
 */
export function createProgress(output: ProgressOutput, opts: { tty?: boolean; intervalMs?: number } = {}): { listener: SplitListener; stop(): void } {
  const tty = opts.tty ?? output.isTTY;
  const interval = opts.intervalMs ?? 3000;
  const tables = new Map<string, TableProgress>();
  const multi = tty
    ? new cliProgress.MultiBar({
        format: ' {model} |{bar}| {value}/{total} rows | {rate} rows/s | ETA {eta_s}',
        hideCursor: true,
        clearOnComplete: false,
        stream: process.stderr,
        etaBuffer: 20,
      }, cliProgress.Presets.shades_classic)
    : undefined;
  const line = (model: string, p: TableProgress, final = false) => {
    const secs = p.startedAt ? (performance.now() - p.startedAt) / 1000 : 0;
    const rate = secs > 0 ? p.done / secs : 0;
    output.err(`${final ? 'done' : 'copy'} ${model}: ${fmt(p.done)}/${fmt(p.total)} rows, ${fmt(rate)} rows/s, ETA ${final ? '0s' : eta(p.total - p.done, rate)}`);
  };
  const listener = (e: SplitEvent) => {
    switch (e.type) {
      case 'phase':
        if (!tty) output.err(`== ${e.phase}: ${e.message}`);
        break;
      case 'warning':
        output.err(`warning: ${e.message}`);
        break;
      case 'index-done':
        if (!tty) output.err(`built ${e.kind} ${e.name} of ${e.model} (${(e.durationMs / 1000).toFixed(1)} s)`);
        break;
      case 'table-start': {
        const total = Math.max(e.estimate, e.resumedRows, 1);
        const p: TableProgress = { total, done: e.resumedRows, startedAt: undefined, lastLine: 0, bar: undefined };
        p.bar = multi?.create(total, e.resumedRows, { model: e.model.padEnd(16), rate: '0' });
        tables.set(e.model, p);
        break;
      }
      case 'table-copying': {
        const p = tables.get(e.model);
        if (p) {
          p.startedAt = performance.now();
          p.lastLine = p.startedAt;
        }
        break;
      }
      case 'chunk-done': {
        const p = tables.get(e.model);
        if (!p) break;
        p.startedAt ??= performance.now();
        p.done += e.rows;
        if (p.done > p.total) p.total = p.done;
        const secs = (performance.now() - p.startedAt) / 1000;
        if (p.bar) {
          p.bar.setTotal(p.total);
          p.bar.update(p.done, { rate: fmt(secs > 0 ? p.done / secs : 0) });
        } else if (performance.now() - p.lastLine > interval) {
          p.lastLine = performance.now();
          line(e.model, p);
        }
        break;
      }
      case 'table-done': {
        const p = tables.get(e.model);
        if (!p) break;
        p.total = p.done;
        if (p.bar) p.bar.update(p.done, { total: p.done });
        else line(e.model, p, true);
        break;
      }
    }
  };
  let stopped = false;
  return {
    listener,
    stop() {
      if (stopped) return;
      stopped = true;
      multi?.stop();
    },
  };
}
