/**
 * Child of young-generation.test.ts: allocates objects of which many survive a scavenge (like
 * Buffers in flight through a copy) and prints the young generation's size before and at its peak.
 *   node --import tsx test/helpers/young-generation-child.ts hold|free
 */
import v8 from 'node:v8';
import { holdYoungGeneration } from '../../src/split/young-generation.ts';

if (process.argv[2] === 'hold') holdYoungGeneration();
const newSpace = () => v8.getHeapSpaceStatistics().find((s) => s.space_name === 'new_space')?.space_size ?? 0;
const before = newSpace();
let peak = before;
let survivors: { i: number; s: string }[] = [];
for (let i = 0; i < 3_000_000; i++) {
  survivors.push({ i, s: `row ${i}` });
  if (survivors.length > 100_000) survivors = [];
  if (i % 10_000 === 0) peak = Math.max(peak, newSpace());
}
console.log(JSON.stringify({ before, peak }));
