import v8 from 'node:v8';

let held = false;

/**
 * Keeps V8's young generation at the size it has now, for the rest of the process.
 * Why: a copy streams every byte through short-lived Buffers. V8 doubles the young generation when
 * many objects survive a scavenge (a Buffer still in flight through the pipes does), and the longer
 * a copy runs the likelier that is: the split's peak RSS grew with the data (136 MB at 3M rows
 * against 120 MB at 300k, 16 MB of it a young generation grown from 8 to 16 MB per semi-space).
 * Capped, the peak stays flat (docs/benchmarks.md); copy speed did not change. Only the growth
 * factor can be changed once V8 runs (the maximum size is read at start-up), hence this way.
 */
export function holdYoungGeneration(): void {
  if (held) return;
  held = true;
  v8.setFlagsFromString('--semi-space-growth-factor=1');
}
