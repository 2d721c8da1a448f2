import type pg from 'pg';
import { VendhubError } from '../errors/vendhub-error.ts';
import { qualified } from '../sql/quote.ts';
import type { LoadedPlan } from '../split/load-plan.ts';
import { applyKey } from './table-applier.ts';

/**
 * What `--follow` needs beyond the split's own preflight, all problems in one message: logical WAL
 * and replication rights on the source; per table a replica identity (so updates and deletes say
 * which row), a target key fed by plain source columns, and no plan-file expressions (they are
 * evaluated in the source's COPY, not per streamed change).
 */
export async function followPreflight(src: pg.ClientBase, loaded: LoadedPlan): Promise<void> {
  const problems: string[] = [];
  const wal = (await src.query<{ v: string }>(`SELECT current_setting('wal_level') AS v`)).rows[0]?.v;
  if (wal !== 'logical') problems.push(`the source has wal_level=${wal}: set wal_level = logical (ALTER SYSTEM SET wal_level = logical; then restart; on Supabase/Neon enable logical replication)`);
  const role = (await src.query<{ ok: boolean }>(`SELECT rolsuper OR rolreplication AS ok FROM pg_roles WHERE rolname = current_user`)).rows[0];
  if (!role?.ok) problems.push('the source role has neither REPLICATION nor superuser: ALTER ROLE <user> WITH REPLICATION');
  for (const t of loaded.plan.tables) {
    const name = qualified(t.sourceSchema, t.sourceTable);
    const ident = (await src.query<{ ri: string; haspk: boolean; idx: boolean }>(
      `SELECT c.relreplident AS ri, EXISTS (SELECT 1 FROM pg_index i WHERE i.indrelid = c.oid AND i.indisprimary) AS haspk,
              EXISTS (SELECT 1 FROM pg_index i WHERE i.indrelid = c.oid AND i.indisreplident) AS idx
         FROM pg_class c WHERE c.oid = $1::regclass`, [name])).rows[0];
    const hasIdentity = ident && (ident.ri === 'f' || (ident.ri === 'd' && ident.haspk) || (ident.ri === 'i' && ident.idx));
    if (!hasIdentity) {
      problems.push(`${name} has no primary key and no replica identity: its updates and deletes cannot be followed (and would fail on the source once published). Fix: ALTER TABLE ${name} ADD PRIMARY KEY (...); or ALTER TABLE ${name} REPLICA IDENTITY FULL; (rows whose target key no source column feeds, like the surrogate key \`split scaffold\` adds, are then matched by all their columns)`);
    }
    for (const c of t.columns) {
      if (c.kind === 'expression') problems.push(`${name} → ${t.targetSchema}.${t.targetTable}.${c.target} comes from the plan-file expression ${c.source}: --follow applies changes column by column and cannot evaluate it; map a plain column (rename) or split offline`);
    }
    const generated = (await src.query<{ c: string }>(`SELECT attname AS c FROM pg_attribute WHERE attrelid = $1::regclass AND attgenerated <> '' AND NOT attisdropped ORDER BY attnum`, [name])).rows.map((r) => r.c);
    if (generated.length) problems.push(`${name}: generated column${generated.length > 1 ? 's' : ''} ${generated.join(', ')}: logical replication does not stream generated columns (the split's publication does not ask PostgreSQL 18 to), so --follow would leave the target's copies stale; split offline (writers stopped), or drop the generation on the source (ALTER TABLE ${name} ALTER COLUMN … DROP EXPRESSION) and compute the value in the application or a target migration`);
    const target = loaded.targetTables.get(t.service)?.get(t.targetTable);
    const key = applyKey(target);
    if (target && key.length === 0) problems.push(`${t.targetSchema}.${t.targetTable} has no primary key and no unique NOT NULL columns: changes cannot be applied by key`);
    const unfed = key.filter((k) => !t.columns.some((c) => c.target === k && c.kind === 'column'));
    if (unfed.length && ident?.ri !== 'f') {
      problems.push(`${t.targetSchema}.${t.targetTable}: key column${unfed.length > 1 ? 's' : ''} ${unfed.join(', ')} ${unfed.length > 1 ? 'are' : 'is'} not fed by a source column (a surrogate key), so a change cannot name its target row by key; rows are then matched by all their columns, which needs the old row of every update and delete. Fix: ALTER TABLE ${name} REPLICA IDENTITY FULL;`);
    }
  }
  if (problems.length) {
    throw new VendhubError('PREFLIGHT_FAILED', `--follow refused:\n  - ${problems.join('\n  - ')}`, {
      details: { problems }, hint: 'Apply the fixes above on the source (or in the plan file), then run again; or run the split offline without --follow.',
    });
  }
}
