import { holdSnapshot, type HeldSnapshot } from '../split/snapshot.ts';
import type { SplitContext } from '../split/split-context.ts';

/** The source and every target database as they were at the fence, held for a verify that runs later. */
export interface FenceSnapshots {
  readonly source: string;
  /** Snapshot id per target database key. */
  readonly targets: ReadonlyMap<string, string>;
  close(): Promise<void>;
}

/**
 * Exports and holds a snapshot of the source and of each target database. Taken once the targets
 * have applied everything up to the fence: from then on the services may write to the targets
 * (and a rollback stream to the source) while verify compares these instants.
 */
export async function holdFenceSnapshots(ctx: SplitContext): Promise<FenceSnapshots> {
  const held: HeldSnapshot[] = [];
  try {
    const source = await holdSnapshot(ctx.source, ctx.secrets);
    held.push(source);
    const targets = new Map<string, string>();
    for (const t of ctx.targets) {
      const s = await holdSnapshot(t, ctx.secrets);
      held.push(s);
      targets.set(t.key, s.id);
    }
    return { source: source.id, targets, close: () => closeAll(held) };
  } catch (e) {
    await closeAll(held);
    throw e;
  }
}

async function closeAll(held: readonly HeldSnapshot[]): Promise<void> {
  await Promise.all(held.map((h) => h.close()));
}
