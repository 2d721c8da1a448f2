import type pg from 'pg';
import { VendhubError } from '../errors/vendhub-error.ts';
import { qualified, quoteIdent } from '../sql/quote.ts';
import type { LoadedPlan } from '../split/load-plan.ts';
import { withDatabase, withTransaction } from '../db/with-database.ts';
import type { SplitContext, TargetDatabase } from '../split/split-context.ts';
import { followNames, reverseNames, type FollowNames } from './follow-names.ts';
import { dropFollowState, ensureFollowState, initFollowState, readFollowState, type FollowState } from './follow-state.ts';
import { reverseProblems } from './inverse-mapping.ts';
import { dropSlotAndPublicationWith, slotStatus } from './replication-slot.ts';
import { recordHandover } from './slot-handover.ts';
import { clearFence, loadFence, recordFence, restoreWrites, type RevokedGrant } from './write-fence.ts';

/** One target database's end of the rollback window: its slot and publication (on the target). */
export interface ReverseSlot {
  readonly target: TargetDatabase;
  readonly names: FollowNames;
}

/** A reverse slot as created by `cutover --rollback-window`. */
export interface WindowSlot {
  readonly target: string;
  readonly slot: string;
  readonly publication: string;
  /** The monolith has everything the target committed before this LSN (of the target). */
  readonly startLsn: string;
}

/** The reverse slot of every target database (names derived from the forward slot and the services). */
export function reverseSlots(ctx: SplitContext, slot: string): ReverseSlot[] {
  return ctx.targets.map((target) => ({ target, names: reverseNames(slot, target.services) }));
}

/** The monolith's follow state of each reverse slot that has one (an open or rolled-back window). */
export async function windowStates(src: pg.ClientBase, slots: readonly ReverseSlot[]): Promise<Map<string, FollowState>> {
  const out = new Map<string, FollowState>();
  for (const r of slots) {
    const st = await readFollowState(src, r.names.slot);
    if (st) out.set(r.names.slot, st);
  }
  return out;
}

/**
 * Refuses unless the rollback window is open for every target database: the monolith follows its
 * reverse slot (not yet rolled back) and the slot exists on the target.
 */
export async function assertWindowOpen(ctx: SplitContext, slots: readonly ReverseSlot[], slot: string): Promise<void> {
  const states = await withDatabase(ctx, ctx.source, (src) => windowStates(src, slots));
  for (const r of slots) {
    const st = states.get(r.names.slot);
    if (!st) {
      throw new VendhubError('PREFLIGHT_FAILED', `no rollback window is open for ${r.target.label}: the monolith has no follow state for ${r.names.slot}`, {
        hint: `A window is opened by \`split cutover --rollback-window\` (slot ${slot}); one closed by \`split end-rollback-window\` cannot be reopened.`,
      });
    }
    if (st.status === 'cut-over') {
      throw new VendhubError('PREFLIGHT_FAILED', `the monolith was already rolled back from ${r.target.label} (slot ${r.names.slot})`, { hint: '`split end-rollback-window` removes what is left of the window (and gives the targets their write grants back).' });
    }
    const s = await withDatabase(ctx, r.target, (c) => slotStatus(c, r.names.slot));
    if (!s.exists) {
      throw new VendhubError('PREFLIGHT_FAILED', `${r.target.label} has no replication slot ${r.names.slot}: the rollback window is broken`, {
        hint: 'Close it with `split end-rollback-window`; what was written in that target since can no longer stream back.',
      });
    }
  }
}

/**
 * What `cutover --rollback-window` needs, checked before anything is fenced, all problems at once:
 * the monolith can take the targets' changes (keys, ignored NOT NULL columns, a role that the
 * fence leaves able to write and that may set session_replication_role) and every target database
 * can be streamed from (logical WAL, REPLICATION, CREATE PUBLICATION, a free slot, no PgBouncer).
 */
export async function rollbackWindowPreflight(ctx: SplitContext, src: pg.ClientBase, loaded: LoadedPlan, slot: string, fence: 'revoke' | 'wait'): Promise<void> {
  const problems = [...reverseProblems(loaded), ...(await monolithProblems(src, fence))];
  const slots = reverseSlots(ctx, slot);
  const ours = slots.map((s) => s.names.slot);
  for (const r of slots) {
    const sameCluster = ctx.targets.filter((t) => t.connection.host === r.target.connection.host && t.connection.port === r.target.connection.port).length;
    problems.push(...(await withDatabase(ctx, r.target, (c) => targetProblems(c, r.target, targetTables(loaded, r.target), ours, sameCluster))));
  }
  if (problems.length) {
    throw new VendhubError('PREFLIGHT_FAILED', `--rollback-window refused (nothing was fenced):\n  - ${problems.join('\n  - ')}`, {
      details: { problems }, hint: 'Fix the above, then run `split cutover --rollback-window` again; or cut over without --rollback-window (rollback then loses the writes made in the targets).',
    });
  }
}

async function monolithProblems(src: pg.ClientBase, fence: 'revoke' | 'wait'): Promise<string[]> {
  const problems: string[] = [];
  const role = (await src.query<{ u: string; su: boolean }>('SELECT current_user AS u, rolsuper AS su FROM pg_roles WHERE rolname = current_user')).rows[0];
  const user = role?.u ?? '?';
  if (fence === 'revoke' && !role?.su) {
    problems.push(`the source user ${user} is not a superuser: the cutover fence revokes writes from every non-superuser role, so it could not apply the targets' changes to the monolith. Use a superuser in SOURCE_DATABASE_URL, or --wait-for-writers-stopped (then keep the applications off the monolith yourself during the window)`);
  }
  try {
    // Set for this one statement only (is_local in its own transaction): a probe of the privilege.
    await src.query(`SELECT set_config('session_replication_role', 'replica', true)`);
  } catch {
    problems.push(`the source user ${user} may not set session_replication_role (the monolith's foreign keys span services whose changes stream back independently). Fix: GRANT SET ON PARAMETER session_replication_role TO ${quoteIdent(user)}; (PostgreSQL 15+), or use a superuser`);
  }
  return problems;
}

async function targetProblems(c: pg.ClientBase, t: TargetDatabase, tables: readonly string[], ourSlots: readonly string[], slotsNeeded: number): Promise<string[]> {
  const r = (await c.query<{ wal: string; u: string; su: boolean; repl: boolean; create: boolean; slots: number; senders: number; db: string }>(
    `SELECT current_setting('wal_level') AS wal, current_user AS u, r.rolsuper AS su, r.rolreplication AS repl, current_database() AS db,
            has_database_privilege(current_database(), 'CREATE') AS "create",
            current_setting('max_replication_slots')::int - (SELECT count(*)::int FROM pg_replication_slots WHERE slot_name <> ALL($1)) AS slots,
            current_setting('max_wal_senders')::int - (SELECT count(*)::int FROM pg_stat_replication) AS senders
       FROM pg_roles r WHERE r.rolname = current_user`, [ourSlots])).rows[0];
  if (!r) return [`${t.label}: cannot read the current role`];
  const p: string[] = [];
  if (t.connection.pgbouncer) p.push(`${t.label} is reached through PgBouncer (pgbouncer=true): replication needs a direct connection. Fix: set ${t.services.map((s) => `${s.toUpperCase()}_DIRECT_URL`).join(' / ')} (or DIRECT_URL)`);
  if (r.wal !== 'logical') p.push(`${t.label} has wal_level=${r.wal}: the rollback window streams the targets' changes back. Fix: ALTER SYSTEM SET wal_level = logical; then restart that server (on Neon: enable logical replication in the project settings)`);
  if (!r.su && !r.repl) p.push(`${t.label}: the user ${r.u} has neither REPLICATION nor superuser. Fix: ALTER ROLE ${quoteIdent(r.u)} WITH REPLICATION;`);
  if (!r.su && !r.create) p.push(`${t.label}: the user ${r.u} may not create a publication. Fix: GRANT CREATE ON DATABASE ${quoteIdent(r.db)} TO ${quoteIdent(r.u)};`);
  if (!r.su) {
    const notOwned = (await c.query<{ t: string }>(`SELECT x.t FROM unnest($1::text[]) AS x(t) JOIN pg_class k ON k.oid = x.t::regclass WHERE NOT pg_has_role(current_user, k.relowner, 'USAGE')`, [tables])).rows.map((x) => x.t);
    if (notOwned.length) p.push(`${t.label}: the user ${r.u} does not own ${notOwned.join(', ')}: a publication for them needs their owner or a superuser`);
  }
  if (r.slots < slotsNeeded) p.push(`${t.label}: ${Math.max(0, r.slots)} replication slot(s) free, ${slotsNeeded} needed on that server. Fix: raise max_replication_slots (restart) or drop unused slots`);
  if (r.senders < 1) p.push(`${t.label}: no WAL sender free. Fix: raise max_wal_senders (restart)`);
  return p;
}

/**
 * Inside the cutover's freeze, once the targets equal the monolith and before the forward slot
 * goes: per target database a publication for its mapped tables and a logical slot (nobody writes
 * to the targets yet, so the slot's start is exactly where the monolith is); the monolith records
 * each reverse slot's start in its own `follow_state` and keeps a copy of the fence's revoked
 * grants, so a rollback gives them back even without the targets. Leftovers of an unfinished
 * cutover (same names) are replaced. On a failure what was created is removed again.
 */
export async function openRollbackWindow(ctx: SplitContext, src: pg.ClientBase, loaded: LoadedPlan, slot: string): Promise<WindowSlot[]> {
  const grants = new Map<string, RevokedGrant>();
  for (const t of ctx.targets) for (const g of await withDatabase(ctx, t, (c) => loadFence(c, slot))) grants.set(`${g.table}|${g.grantee}|${g.privilege}`, g);
  await ensureFollowState(src);
  await recordFence(src, slot, [...grants.values()]);
  const created: WindowSlot[] = [];
  try {
    for (const r of reverseSlots(ctx, slot)) {
      const startLsn = await withDatabase(ctx, r.target, (c) => createReverseSlot(c, r.names, targetTables(loaded, r.target)));
      created.push({ target: r.target.label, slot: r.names.slot, publication: r.names.publication, startLsn });
      await initFollowState(src, r.names.slot, startLsn);
    }
    return created;
  } catch (e) {
    await closeWindow(ctx, src, slot).catch(() => {});
    throw e;
  }
}

/** The mapped tables of one target database, as `"schema"."table"`. */
function targetTables(loaded: LoadedPlan, t: TargetDatabase): string[] {
  return [...new Set(loaded.plan.tables.filter((m) => t.services.includes(m.service)).map((m) => qualified(m.targetSchema, m.targetTable)))];
}

async function createReverseSlot(c: pg.ClientBase, names: FollowNames, tables: readonly string[]): Promise<string> {
  await dropSlotAndPublicationWith(c, names);
  await c.query(`CREATE PUBLICATION ${quoteIdent(names.publication)}${tables.length ? ` FOR TABLE ${tables.join(', ')}` : ''}`);
  const r = await c.query<{ lsn: string }>(`SELECT lsn::text AS lsn FROM pg_create_logical_replication_slot($1, 'pgoutput')`, [names.slot]);
  return r.rows[0]?.lsn as string;
}

export interface ClosedSlot {
  readonly target: string;
  readonly slot: string;
  readonly slotDropped: boolean;
  readonly publicationDropped: boolean;
  /** Write grants a rollback fence had revoked on this target, given back. */
  readonly restored: readonly RevokedGrant[];
}

/**
 * Closes the rollback window: per target database drops the reverse slot (stopping a running
 * `follow-back` stream) and publication, gives back the write grants a `rollback` fence revoked
 * there, and forgets the reverse state in the monolith. Missing pieces are fine (safe to repeat).
 */
export async function closeWindow(ctx: SplitContext, src: pg.ClientBase, slot: string): Promise<ClosedSlot[]> {
  const out: ClosedSlot[] = [];
  for (const r of reverseSlots(ctx, slot)) {
    // A running `follow-back` stream ends as "slot released" (recorded where it applies), not as a failure.
    if (await readFollowState(src, r.names.slot)) await recordHandover(src, r.names.slot, 'end-rollback-window');
    const dropped = await withDatabase(ctx, r.target, (c) => dropSlotAndPublicationWith(c, r.names));
    const grants = await loadFence(src, r.names.slot);
    if (grants.length) await withTransaction(r.target, (c) => restoreWrites(c, grants), { secrets: ctx.secrets });
    await clearFence(src, r.names.slot);
    await dropFollowState(src, r.names.slot);
    out.push({ target: r.target.label, slot: r.names.slot, slotDropped: dropped.slot, publicationDropped: dropped.publication, restored: grants });
  }
  return out;
}

export interface EndWindowResult {
  /** What the window's state said before: open (following), rolled back, or nothing there. */
  readonly was: 'open' | 'rolled-back' | 'none';
  readonly slots: readonly ClosedSlot[];
}

/**
 * `vendhub-db split end-rollback-window`: see closeWindow. After an open window the targets stay
 * the system of record (the monolith stays fenced); after a rollback, the monolith.
 */
export async function endRollbackWindow(ctx: SplitContext, opts: { readonly slot?: string } = {}): Promise<EndWindowResult> {
  const names = followNames(opts.slot);
  return await withDatabase(ctx, ctx.sourceWriter, async (src) => {
    const states = [...(await windowStates(src, reverseSlots(ctx, names.slot))).values()];
    const was = states.some((s) => s.status === 'following') ? 'open' : states.length ? 'rolled-back' : 'none';
    return { was, slots: await closeWindow(ctx, src, names.slot) };
  });
}
