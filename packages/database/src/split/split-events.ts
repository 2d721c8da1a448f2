/** What a running split reports as it goes; progress display and reports listen to these. */
export type SplitEvent =
  | { type: 'phase'; phase: 'plan' | 'preflight' | 'snapshot' | 'copy' | 'finish' | 'verify'; message: string }
  | { type: 'table-start'; model: string; estimate: number; chunks: number; resumedRows: number; resumedChunks: number }
  | { type: 'table-copying'; model: string }
  | { type: 'chunk-done'; model: string; chunkNo: number; rows: number }
  | { type: 'table-done'; model: string; rows: number; durationMs: number }
  | { type: 'index-done'; model: string; kind: 'index' | 'key' | 'foreign-key'; name: string; durationMs: number }
  | { type: 'warning'; message: string };

export type SplitListener = (e: SplitEvent) => void;
