import type pg from 'pg';
import { VendhubError } from '../errors/vendhub-error.ts';
import { SERVICES } from '../services.ts';
import { qualified, quoteIdent } from '../sql/quote.ts';
import { loadPlan, type LoadedPlan } from '../split/load-plan.ts';
import type { PlanFile } from '../split/plan-file.ts';
import { syncSequences } from '../split/sequences.ts';
import { withDatabase, withTransaction } from '../db/with-database.ts';
import type { SplitContext } from '../split/split-context.ts';
import { keyOrderings, verifySplit, type VerifyResult } from '../split/verify-split.ts';
import { followBack } from './follow-back.ts';
import { followNames } from './follow-names.ts';
import { markCutOver } from './follow-state.ts';
import { reverseTables } from './inverse-mapping.ts';
import { dropSlotAndPublicationWith } from './replication-slot.ts';
import { assertWindowOpen, reverseSlots, windowStates, type ReverseSlot } from './rollback-window.ts';
import { assertSlotIntact } from './slot-health.ts';
import { clearFence, loadFence, restoreWrites, type RevokedGrant } from './write-fence.ts';
import { phaseTimer } from './phase-timer.ts';
import { switchover } from './switchover.ts';

export interface RollbackOptions {
  readonly planFile?: PlanFile;
  /** The forward slot (`--slot` of `split run --follow`). */
  readonly slot?: string;
  /** revoke: the tool makes the target tables read-only for non-superusers; wait: the operator stopped the services. */
  readonly fence?: 'revoke' | 'wait';
  readonly writersTimeoutMs?: number;
  readonly catchUpTimeoutMs?: number;
  readonly verify?: boolean;
  readonly parallel?: number;
  readonly onPhase?: (phase: string, ms: number) => void;
}

export interface ForeignKeyViolation {
  readonly constraint: string;
  readonly table: string;
  readonly rows: number;
}

export interface RollbackResult {
  readonly fence: 'revoke' | 'wait';
  /** Write grants revoked on the targets: they stay revoked (the targets are read-only now). */
  readonly revoked: readonly RevokedGrant[];
  /** The fence marker's LSN in each target database. */
  readonly markers: readonly { readonly target: string; readonly lsn: string }[];
  /** Writes stopped on the targets → the monolith writable again: the downtime. */
  readonly writeFreezeMs: number;
  readonly phases: Readonly<Record<string, number>>;
  readonly appliedAfterFence: number;
  readonly verify: VerifyResult | undefined;
  readonly sequencesSet: readonly string[];
  /** The monolith's write grants that the forward cutover had revoked, given back. */
  readonly restored: readonly RevokedGrant[];
  /** The monolith's foreign keys across services that rows now break (one service deleted what another still references). */
  readonly foreignKeyViolations: readonly ForeignKeyViolation[];
  readonly slotsDropped: readonly string[];
  /** Each service's variable pointing back at the monolith (password shown as ***). */
  readonly environment: readonly string[];
}

/**
 * `vendhub-db split rollback`: switches back to the monolith without losing the writes made in
 * the targets since the cutover. Fences the target tables (revoking writes, recorded in the
 * monolith; or waits for the stopped services' transactions), marks the fence in each target's
 * WAL, applies every reverse stream up to its mark (taking the slots from a running `follow-back`),
 * checks nothing came after, verifies, moves the monolith's sequences past the maximum, gives
 * back the monolith's write grants and drops the reverse slots. The targets stay read-only. On a
 * failure the fences and the window stay: run it again, or `end-rollback-window` to stay on the targets.
 */
export async function rollback(ctx: SplitContext, opts: RollbackOptions = {}): Promise<RollbackResult> {
  const names = followNames(opts.slot);
  const fence = opts.fence ?? 'revoke';
  const loaded = await loadPlan(ctx, opts.planFile ?? {});
  // Everything verify needs from the catalogs, read now: nothing is re-read inside the freeze.
  const orderings = await keyOrderings(ctx, loaded);
  const tables = reverseTables(loaded);
  const slots = reverseSlots(ctx, names.slot);
  await assertWindowOpen(ctx, slots, names.slot);
  return await withDatabase(ctx, ctx.sourceWriter, async (src) => {
    // Every reverse slot intact (not lost, not recreated) before anything is fenced.
    for (const r of slots) {
      await withDatabase(ctx, r.target, (c) => assertSlotIntact(c, r.names.slot, r.target.label, async () => {
        const st = (await windowStates(src, [r])).get(r.names.slot);
        return st ? [{ label: ctx.source.label, appliedLsn: st.appliedLsn }] : [];
      }));
    }
    const { phases, phase } = phaseTimer(opts.onPhase);
    const frozeAt = performance.now();
    const sw = await switchover(ctx, {
      taker: 'rollback',
      fenced: slots.map((r) => ({ db: r.target, tables: tables.filter((t) => r.target.services.includes(t.mapping.service)).map((t) => t.mapping), fenceSlot: r.names.slot })),
      recordIn: [ctx.sourceWriter],
      slots: slots.map((r) => ({ db: r.target, names: r.names })),
      catchUp: async (stopAtMarkers, signal) => {
        const r = await followBack(ctx, { slot: names.slot, stopAtMarkers, signal }, loaded);
        return { reason: r.reason, changes: r.changes, appliedLsn: new Map(r.streams.map((x) => [x.slot, x.appliedLsn])) };
      },
      again: 'run `split rollback` again, or `split end-rollback-window` to stay on the targets',
    }, { fence, writersTimeoutMs: opts.writersTimeoutMs ?? 15_000, catchUpTimeoutMs: opts.catchUpTimeoutMs ?? 300_000, phase });
    const { revoked } = sw;
    const markers = sw.markers.map((m) => ({ target: m.slot.db.label, lsn: m.lsn }));
    const followed = { changes: sw.caughtUp.changes };
    let verify: VerifyResult | undefined;
    if (opts.verify !== false) {
      verify = await verifySplit(ctx, { parallel: opts.parallel ?? 2, setSequences: false, keyOrderings: orderings }, loaded);
      phase('verify');
      if (!verify.ok) {
        throw new VendhubError('VERIFY_MISMATCH', 'after catching up to the fence, verify found differences between the monolith and the targets; the fences and the rollback window stay', {
          details: { verify }, hint: 'Inspect with `split verify`; run `split rollback` again, or `split end-rollback-window` to reopen the targets and stay on them.',
        });
      }
    }
    const sequencesSet = await syncSequences(src, tables.map((t) => t.mapping));
    phase('sequences');
    const restored = await reopenMonolith(ctx, src, names.slot, slots);
    phase('restore-grants');
    const writeFreezeMs = Math.round(performance.now() - frozeAt);
    const slotsDropped: string[] = [];
    for (const r of slots) {
      const d = await withDatabase(ctx, r.target, (c) => dropSlotAndPublicationWith(c, r.names));
      if (d.slot) slotsDropped.push(r.names.slot);
    }
    phase('drop-slots');
    const foreignKeyViolations = await crossServiceViolations(src, loaded);
    const environment = SERVICES.map((s) => `${s.toUpperCase()}_DATABASE_URL=${ctx.source.connection.redacted}`);
    return {
      fence, revoked, markers, writeFreezeMs, phases,
      appliedAfterFence: followed.changes, verify, sequencesSet, restored, foreignKeyViolations, slotsDropped, environment,
    };
  });
}

/**
 * Gives back the monolith's write grants the forward cutover revoked (the monolith's own copy and
 * the targets' records) and marks each reverse slot rolled back, in one transaction on a
 * connection of its own (`src` stays outside any transaction, held for the switchover).
 */
async function reopenMonolith(ctx: SplitContext, src: pg.ClientBase, slot: string, slots: readonly ReverseSlot[]): Promise<RevokedGrant[]> {
  const grants = new Map<string, RevokedGrant>();
  const add = (gs: readonly RevokedGrant[]) => { for (const g of gs) grants.set(`${g.table}|${g.grantee}|${g.privilege}`, g); };
  add(await loadFence(src, slot));
  for (const t of ctx.targets) add(await withDatabase(ctx, t, (c) => loadFence(c, slot)));
  await withTransaction(ctx.sourceWriter, async (c) => {
    await restoreWrites(c, [...grants.values()]);
    for (const r of slots) await markCutOver(c, r.names.slot);
    await clearFence(c, slot);
  }, { secrets: ctx.secrets });
  for (const t of ctx.targets) await withDatabase(ctx, t, (c) => clearFence(c, slot));
  return [...grants.values()];
}

/**
 * Rows of the monolith that break a foreign key to another service's table: the split world has
 * no such keys (a service may delete what another still references), and the reverse streams
 * applied without them. Same-service keys held in the targets, so they hold here.
 */
async function crossServiceViolations(src: pg.ClientBase, loaded: LoadedPlan): Promise<ForeignKeyViolation[]> {
  const out: ForeignKeyViolation[] = [];
  for (const m of loaded.plan.tables) {
    for (const fk of loaded.sourceTables.get(m.sourceTable)?.foreignKeys ?? []) {
      const ref = loaded.plan.tables.find((t) => t.sourceSchema === fk.refSchema && t.sourceTable === fk.refTable);
      if (!ref || ref.service === m.service) continue;
      const set = fk.columns.map((c) => `a.${quoteIdent(c)} IS NOT NULL`).join(' AND ');
      const join = fk.columns.map((c, i) => `b.${quoteIdent(fk.refColumns[i] as string)} = a.${quoteIdent(c)}`).join(' AND ');
      const r = await src.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${qualified(m.sourceSchema, m.sourceTable)} a
        WHERE ${set} AND NOT EXISTS (SELECT 1 FROM ${qualified(fk.refSchema, fk.refTable)} b WHERE ${join})`);
      const n = r.rows[0]?.n ?? 0;
      if (n > 0) out.push({ constraint: fk.name, table: `${m.sourceSchema}.${m.sourceTable}`, rows: n });
    }
  }
  return out;
}
