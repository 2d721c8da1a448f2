/** Times the steps of a cutover or rollback: `phase(name)` records the time since the previous one. */
export function phaseTimer(onPhase?: (phase: string, ms: number) => void): { readonly phases: Record<string, number>; phase(name: string): void } {
  const phases: Record<string, number> = {};
  let mark = performance.now();
  return {
    phases,
    phase(name: string) {
      const now = performance.now();
      phases[name] = Math.round(now - mark);
      onPhase?.(name, phases[name] as number);
      mark = now;
    },
  };
}
