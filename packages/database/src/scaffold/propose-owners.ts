import type { TableInfo } from '../catalog/table-catalog.ts';
import { SERVICES, type ServiceName } from '../services.ts';

/** The service a new table goes to, and why. */
export interface OwnerProposal {
  readonly table: string;
  readonly service: ServiceName;
  readonly reason: string;
  /** True when the user chose it (--service/--tables or an assignment file). */
  readonly assigned: boolean;
}

export const DEFAULT_SERVICE: ServiceName = 'shared';

/**
 * Proposes an owner for each unmapped table from the foreign-key graph: the service whose tables it
 * references and is referenced by most often (one point per foreign key either way). Tables that
 * only touch other new tables are decided in later rounds, once their neighbours have an owner;
 * a table with no foreign key to or from an owned table goes to `shared`.
 */
export function proposeOwners(
  unmapped: readonly string[],
  sourceTables: ReadonlyMap<string, TableInfo>,
  mappedOwner: ReadonlyMap<string, ServiceName>,
  assigned: ReadonlyMap<string, ServiceName>,
): OwnerProposal[] {
  const owner = new Map(mappedOwner);
  const out = new Map<string, OwnerProposal>();
  for (const t of unmapped) {
    const s = assigned.get(t);
    if (s) {
      owner.set(t, s);
      out.set(t, { table: t, service: s, reason: 'assigned on the command line or in the assignment file', assigned: true });
    }
  }
  let pending = unmapped.filter((t) => !out.has(t));
  for (let round = 0; pending.length > 0 && round < unmapped.length + 1; round++) {
    const decided: OwnerProposal[] = [];
    for (const t of pending) {
      const votes = new Map<ServiceName, string[]>();
      const vote = (s: ServiceName | undefined, why: string) => {
        if (s) votes.set(s, [...(votes.get(s) ?? []), why]);
      };
      for (const fk of sourceTables.get(t)?.foreignKeys ?? []) {
        if (fk.refTable !== t) vote(owner.get(fk.refTable), `references ${fk.refTable} (${fk.columns.join(', ')})`);
      }
      for (const [name, info] of sourceTables) {
        if (name === t) continue;
        for (const fk of info.foreignKeys) if (fk.refTable === t) vote(owner.get(name), `referenced by ${name}.${fk.columns.join(', ')}`);
      }
      if (votes.size === 0) continue;
      const best = [...votes].sort((a, b) => b[1].length - a[1].length || SERVICES.indexOf(a[0]) - SERVICES.indexOf(b[0]))[0] as [ServiceName, string[]];
      const others = [...votes].filter(([s]) => s !== best[0]).map(([s, w]) => `${s}: ${w.length}`);
      decided.push({ table: t, service: best[0], reason: `${best[1].join('; ')} (${best[0]}: ${best[1].length}${others.length ? `, ${others.join(', ')}` : ''})`, assigned: false });
    }
    if (decided.length === 0) break;
    for (const d of decided) {
      owner.set(d.table, d.service);
      out.set(d.table, d);
    }
    pending = pending.filter((t) => !out.has(t));
  }
  for (const t of pending) {
    out.set(t, { table: t, service: DEFAULT_SERVICE, reason: `no foreign key to or from a table with an owner: ${DEFAULT_SERVICE} by default`, assigned: false });
  }
  return unmapped.map((t) => out.get(t) as OwnerProposal);
}
