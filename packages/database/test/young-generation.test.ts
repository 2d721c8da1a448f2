import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';

/** Young-generation size before and at the peak of a workload run in a child (V8 flags are per process). */
function youngGeneration(mode: 'hold' | 'free'): { before: number; peak: number } {
  const r = spawnSync(process.execPath, ['--import', 'tsx', 'test/helpers/young-generation-child.ts', mode], { encoding: 'utf8' });
  expect(r.status, r.stderr).toBe(0);
  return JSON.parse(r.stdout) as { before: number; peak: number };
}

describe('holdYoungGeneration (keeps the split peak RSS flat)', () => {
  it('V8 grows the young generation under a workload whose objects survive scavenges', () => {
    const free = youngGeneration('free');
    expect(free.peak).toBeGreaterThanOrEqual(8 * free.before);
  });

  it('held, the same workload leaves it within one doubling of its size', () => {
    const held = youngGeneration('hold');
    expect(held.peak).toBeLessThanOrEqual(2 * held.before);
  });
});
