import type pg from 'pg';
import type { SoftReference } from '../schema/soft-references.ts';
import { qualified, quoteIdent } from '../sql/quote.ts';
import { withDatabase } from '../db/with-database.ts';
import type { SplitContext } from './split-context.ts';
import type { SplitPlan, TableMapping } from './split-plan.ts';

export interface SoftReferenceResult {
  readonly reference: string;
  /** Rows whose reference names no existing row. */
  readonly danglingRows: number;
  /** A few referencing rows' keys with the value they point to. */
  readonly samples: readonly { key: string; value: string }[];
  readonly sameDatabase: boolean;
}

const BATCH = 5_000;

/**
 * Counts cross-service references that point nowhere, in the targets. In one database that is one
 * anti-join; across databases the referenced values are streamed in key order, in batches, and
 * looked up on the other side, so memory stays bounded.
 */
export async function checkSoftReferences(ctx: SplitContext, plan: SplitPlan): Promise<SoftReferenceResult[]> {
  const out: SoftReferenceResult[] = [];
  for (const ref of plan.softReferences) {
    const from = plan.tables.find((t) => t.model === ref.from.model && t.service === ref.from.service);
    const to = plan.tables.find((t) => t.model === ref.to.model && t.service === ref.to.service);
    const fromCol = from?.columns.find((c) => c.field === ref.from.field)?.target;
    const toCol = to?.columns.find((c) => c.field === ref.to.field)?.target;
    if (!from || !to || !fromCol || !toCol) continue;
    const a = ctx.targetFor(from.service);
    const b = ctx.targetFor(to.service);
    out.push(await withDatabase(ctx, a, (ca) => (a === b
      ? sameDatabase(ca, ref, from, fromCol, to, toCol)
      : withDatabase(ctx, b, (cb) => acrossDatabases(ca, cb, ref, from, fromCol, to, toCol)))));
  }
  return out;
}

const label = (r: SoftReference) => `${r.from.model}.${r.from.field} → ${r.to.model}.${r.to.field}`;

async function sameDatabase(c: pg.ClientBase, ref: SoftReference, from: TableMapping, fromCol: string, to: TableMapping, toCol: string): Promise<SoftReferenceResult> {
  const f = quoteIdent(fromCol);
  const r = await c.query<{ n: string; samples: { key: string; value: string }[] | null }>(
    `SELECT count(*)::text AS n, (json_agg(json_build_object('key', k, 'value', v)) FILTER (WHERE rn <= 5)) AS samples FROM (
       SELECT ${quoteIdent(from.targetKey ?? fromCol)}::text AS k, s.${f}::text AS v, row_number() OVER () AS rn
         FROM ${qualified(from.targetSchema, from.targetTable)} s
        WHERE s.${f} IS NOT NULL AND NOT EXISTS (SELECT 1 FROM ${qualified(to.targetSchema, to.targetTable)} o WHERE o.${quoteIdent(toCol)} = s.${f})) d`,
  );
  return { reference: label(ref), danglingRows: Number(r.rows[0]?.n ?? 0), samples: r.rows[0]?.samples ?? [], sameDatabase: true };
}

async function acrossDatabases(
  ca: pg.ClientBase, cb: pg.ClientBase, ref: SoftReference, from: TableMapping, fromCol: string, to: TableMapping, toCol: string,
): Promise<SoftReferenceResult> {
  const f = quoteIdent(fromCol);
  const fromTable = qualified(from.targetSchema, from.targetTable);
  let last: string | null = null;
  let dangling = 0;
  const samples: { key: string; value: string }[] = [];
  for (;;) {
    const batch = await ca.query<{ v: string }>(
      `SELECT DISTINCT ${f}::text COLLATE "C" AS v FROM ${fromTable} WHERE ${f} IS NOT NULL ${last === null ? '' : `AND ${f}::text COLLATE "C" > $1`} ORDER BY v LIMIT ${BATCH}`,
      last === null ? [] : [last],
    );
    if (batch.rows.length === 0) break;
    const values = batch.rows.map((x) => x.v);
    last = values[values.length - 1] as string;
    const missing = (await cb.query<{ v: string }>(
      `SELECT v FROM unnest($1::text[]) v WHERE NOT EXISTS (SELECT 1 FROM ${qualified(to.targetSchema, to.targetTable)} o WHERE o.${quoteIdent(toCol)}::text = v)`,
      [values],
    )).rows.map((x) => x.v);
    if (missing.length > 0) {
      const r = await ca.query<{ n: string; s: { key: string; value: string }[] | null }>(
        `SELECT count(*)::text AS n, (json_agg(json_build_object('key', k, 'value', v)) FILTER (WHERE rn <= 5)) AS s FROM (
           SELECT ${quoteIdent(from.targetKey ?? fromCol)}::text AS k, ${f}::text AS v, row_number() OVER () AS rn FROM ${fromTable} WHERE ${f}::text = ANY($1)) d`,
        [missing],
      );
      dangling += Number(r.rows[0]?.n ?? 0);
      for (const s of r.rows[0]?.s ?? []) if (samples.length < 5) samples.push(s);
    }
    if (batch.rows.length < BATCH) break;
  }
  return { reference: label(ref), danglingRows: dangling, samples, sameDatabase: false };
}
