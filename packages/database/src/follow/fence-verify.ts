import type pg from 'pg';
import { withDatabase, withTransaction } from '../db/with-database.ts';
import { VendhubError } from '../errors/vendhub-error.ts';
import { qualified, quoteIdent } from '../sql/quote.ts';
import type { LoadedPlan } from '../split/load-plan.ts';
import { CANONICAL_SESSION, hashSides, keyRowsSql } from '../split/row-hash.ts';
import type { SplitContext, TargetDatabase } from '../split/split-context.ts';
import type { TableMapping } from '../split/split-plan.ts';
import { verifySplit, type TableVerifyResult, type VerifyResult } from '../split/verify-split.ts';
import { latestPass, readTouched, type VerifyPass } from './verify-state.ts';

/** What the verify inside the freeze of a cutover did. */
export interface FenceVerifyReport {
  /** touched-keys: only the keys changed since a clean background pass; full: every row (no usable pass). */
  readonly mode: 'touched-keys' | 'full';
  /** With touched-keys: the clean pass each target database's re-verify starts from. */
  readonly passes: readonly { readonly target: string; readonly passId: string; readonly baseLsn: string }[];
  /** Keys re-verified at the fence (rows hashed on both sides). */
  readonly keysVerified: number;
  /** Tables verified in full at the fence (a TRUNCATE, or changes without a usable key). */
  readonly wholeTables: readonly string[];
  /** Why the full verify ran, when it did. */
  readonly reason?: string;
}

/** Keys per query when re-hashing touched rows. */
const KEY_BATCH = 5_000;

/** The latest finished background pass of every target database (undefined for one without). */
export async function readPasses(ctx: SplitContext, slot: string): Promise<Map<TargetDatabase, VerifyPass | undefined>> {
  const out = new Map<TargetDatabase, VerifyPass | undefined>();
  for (const t of ctx.targets) out.set(t, await withDatabase(ctx, t, (c) => latestPass(c, slot)));
  return out;
}

/**
 * Refuses (VERIFY_MISMATCH, exit 10) when the latest background pass of some target found
 * differences: a row wrong at the pass's base stays wrong unless a change rewrote it, and nothing
 * at the fence would look at it again. The message names each table and its differing keys.
 */
export function refuseOnDifferences(passes: ReadonlyMap<TargetDatabase, VerifyPass | undefined>, when: string): void {
  const bad = [...passes].filter(([, p]) => p?.status === 'differences');
  if (bad.length === 0) return;
  const lines = bad.flatMap(([, p]) => (p as VerifyPass).differences.map((d) => {
    const keys = [...d.missing.map((k) => `missing ${k}`), ...d.extra.map((k) => `extra ${k}`), ...d.changed.map((k) => `changed ${k}`)];
    return `${d.model} (${d.target}, ${d.sourceRows} source rows, ${d.targetRows} target rows)${keys.length ? `: ${keys.slice(0, 10).join(', ')}${keys.length > 10 ? ` and ${keys.length - 10} more` : ''}` : ''}`;
  }));
  throw new VendhubError('VERIFY_MISMATCH', `the background verify pass ${bad.map(([t, p]) => `${p?.passId} (${t.label}, at ${p?.baseLsn})`).join(', ')} found differences between the source and the targets; ${when}: ${lines.join('; ')}`, {
    details: { passes: bad.map(([t, p]) => ({ target: t.label, ...p })) },
    hint: 'Inspect with `split verify`, repair the targets (or `split abort` and copy again), then let the follower run a clean pass (`split follow --background-verify`) before cutting over.',
  });
}

/**
 * The verify inside the freeze of `cutover`: when every target database has a clean background
 * pass, only the keys the follower touched since that pass's base (every change applied after it,
 * including those applied while catching up to the fence) are hashed on both sides, with the row
 * fingerprint of `split verify`, and compared key by key; tables marked whole (TRUNCATE, no key)
 * are verified in full. Without a clean pass everywhere: the full verify. The pass and touched
 * keys are read in one snapshot per target, so a pass finishing meanwhile cannot shift the base.
 */
export async function verifyAtFence(ctx: SplitContext, loaded: LoadedPlan, slot: string, parallel: number, keyOrderings?: ReadonlyMap<string, boolean>): Promise<{ verify: VerifyResult; report: FenceVerifyReport }> {
  const started = performance.now();
  const reads = new Map<TargetDatabase, { pass: VerifyPass | undefined; touched: Awaited<ReturnType<typeof readTouched>> }>();
  for (const t of ctx.targets) {
    reads.set(t, await withTransaction(t, async (c) => {
      const pass = await latestPass(c, slot);
      return { pass, touched: pass ? await readTouched(c, slot, pass.baseLsn) : new Map() };
    }, { isolation: 'repeatable read', readOnly: true }));
  }
  refuseOnDifferences(new Map([...reads].map(([t, r]) => [t, r.pass])), 'found again inside the freeze');
  const missing = [...reads].filter(([, r]) => r.pass?.status !== 'clean').map(([t]) => t.label);
  if (missing.length > 0) {
    const verify = await verifySplit(ctx, { parallel, keyOrderings }, loaded);
    return { verify, report: { mode: 'full', passes: [], keysVerified: 0, wholeTables: [], reason: `no clean background pass in ${missing.join(', ')}` } };
  }
  const jobs: { m: TableMapping; t: TargetDatabase; keys: string[] }[] = [];
  const whole: TableMapping[] = [];
  for (const [t, r] of reads) {
    for (const m of loaded.plan.tables.filter((x) => t.services.includes(x.service))) {
      const touched = r.touched.get(m.model);
      if (!touched) continue;
      if (touched.whole || !m.sourceKey || !m.targetKey) whole.push(m);
      else jobs.push({ m, t, keys: touched.keys });
    }
  }
  const keysVerified = jobs.reduce((n, j) => n + j.keys.length, 0);
  // Largest first, `parallel` tables at a time (each holds a source and a target connection).
  jobs.sort((a, b) => b.keys.length - a.keys.length);
  const tables: TableVerifyResult[] = [];
  let next = 0;
  await Promise.all(Array.from({ length: Math.max(1, parallel) }, async () => {
    while (next < jobs.length) {
      const j = jobs[next++] as (typeof jobs)[number];
      tables.push(await verifyKeys(ctx, loaded, j.m, j.t, j.keys));
    }
  }));
  let softReferences: VerifyResult['softReferences'] = [];
  if (whole.length > 0) {
    const v = await verifySplit(ctx, { parallel, setSequences: false, keyOrderings }, { ...loaded, plan: { ...loaded.plan, tables: whole } });
    tables.push(...v.tables);
    softReferences = v.softReferences;
  }
  const passes = [...reads].map(([t, r]) => ({ target: t.label, passId: (r.pass as VerifyPass).passId, baseLsn: (r.pass as VerifyPass).baseLsn }));
  return {
    verify: { ok: tables.every((x) => x.ok), tables, softReferences, sequencesSet: [], durationMs: Math.round(performance.now() - started) },
    report: { mode: 'touched-keys', passes, keysVerified, wholeTables: whole.map((m) => m.model) },
  };
}

/** Hashes the rows of `keys` on both sides and compares them key by key (missing, extra, changed), as `split verify` reports. */
async function verifyKeys(ctx: SplitContext, loaded: LoadedPlan, m: TableMapping, t: TargetDatabase, keys: readonly string[]): Promise<TableVerifyResult> {
  const started = performance.now();
  const targetInfo = loaded.targetTables.get(m.service)?.get(m.targetTable);
  const acc = { src: 0, tgt: 0, missing: [] as string[], extra: [] as string[], changed: [] as string[] };
  if (targetInfo) {
    const sides = hashSides(m, loaded.sourceTables.get(m.sourceTable), targetInfo, [], true);
    const srcSql = keyRowsSql(sides.source, `s.${quoteIdent(m.sourceKey as string)}`);
    const tgtSql = keyRowsSql(sides.target, `t.${quoteIdent(m.targetKey as string)}`);
    await withDatabase(ctx, ctx.source, (src) => withDatabase(ctx, t, async (tgt) => {
      await Promise.all([src.query(CANONICAL_SESSION), tgt.query(CANONICAL_SESSION)]);
      for (let i = 0; i < keys.length; i += KEY_BATCH) {
        const batch = keys.slice(i, i + KEY_BATCH);
        const [a, b] = await Promise.all([hashed(src, srcSql, batch), hashed(tgt, tgtSql, batch)]);
        compare(a, b, acc);
      }
    }));
  }
  return {
    model: m.model, service: m.service, target: qualified(m.targetSchema, m.targetTable), sourceRows: acc.src, targetRows: acc.tgt,
    ranges: Math.ceil(keys.length / KEY_BATCH), mismatchedRanges: acc.missing.length + acc.extra.length + acc.changed.length > 0 ? 1 : 0,
    missing: acc.missing, extra: acc.extra, changed: acc.changed,
    acceptedLoss: m.columns.filter((c) => c.acceptedLoss !== undefined).map((c) => `${c.target}: ${c.narrowing} (accepted: ${c.acceptedLoss})`),
    ok: targetInfo !== undefined && acc.missing.length + acc.extra.length + acc.changed.length === 0, durationMs: Math.round(performance.now() - started),
  };
}

async function hashed(c: pg.ClientBase, sql: string, keys: readonly string[]): Promise<Map<string, string>> {
  const r = await c.query<{ k: string; h: string }>(sql, [keys]);
  return new Map(r.rows.map((x) => [x.k, x.h]));
}

function compare(source: Map<string, string>, target: Map<string, string>, acc: { src: number; tgt: number; missing: string[]; extra: string[]; changed: string[] }): void {
  acc.src += source.size;
  acc.tgt += target.size;
  for (const [k, h] of source) {
    const other = target.get(k);
    if (other === undefined) acc.missing.push(k);
    else if (other !== h) acc.changed.push(k);
  }
  for (const k of target.keys()) if (!source.has(k)) acc.extra.push(k);
}
