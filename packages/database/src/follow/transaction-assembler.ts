import type { Pgoutput } from 'pg-logical-replication';
import type { Change, SourceTransaction } from './change-applier.ts';
import { FENCE_MESSAGE_PREFIX } from './follow-names.ts';
import type { SourceRow, TableApplier } from './table-applier.ts';

/**
 * Turns the pgoutput message stream into whole source transactions (begin … commit), resolving
 * each change to the applier of its table. Fence markers (logical messages with our prefix) make
 * their transaction a barrier that every target records.
 */
export class TransactionAssembler {
  private current: { changes: Change[]; markers: string[] } | null = null;
  private readonly appliers: ReadonlyMap<string, TableApplier>;

  /** `appliers` by "sourceSchema.sourceTable". */
  constructor(appliers: ReadonlyMap<string, TableApplier>) {
    this.appliers = appliers;
  }

  /** True between a begin and its commit (something received is not yet a transaction). */
  get inTransaction(): boolean {
    return this.current !== null;
  }

  /** Feeds one message; returns a transaction when one is complete. Must run before the next message is parsed. */
  push(msg: Pgoutput.Message): SourceTransaction | undefined {
    switch (msg.tag) {
      case 'relation':
        // Keep values as the source's text: exact for timestamps (µs), numerics, enums, arrays, jsonb.
        for (const col of msg.columns) col.parser = (raw: unknown) => raw;
        return undefined;
      case 'begin':
        this.current = { changes: [], markers: [] };
        return undefined;
      case 'insert': case 'update': case 'delete': {
        const a = this.appliers.get(`${msg.relation.schema}.${msg.relation.name}`);
        if (!a || !this.current) return undefined;
        if (msg.tag === 'delete') this.current.changes.push({ op: 'delete', table: a, key: (msg.old ?? msg.key ?? {}) as SourceRow });
        else this.current.changes.push({ op: 'upsert', table: a, row: msg.new as SourceRow, old: msg.tag === 'update' ? ((msg.old ?? msg.key) as SourceRow | null) : null });
        return undefined;
      }
      case 'truncate': {
        const tables = msg.relations.map((r) => this.appliers.get(`${r.schema}.${r.name}`)).filter((a): a is TableApplier => a !== undefined);
        if (this.current && tables.length) this.current.changes.push({ op: 'truncate', tables });
        return undefined;
      }
      case 'message': {
        if (msg.prefix !== FENCE_MESSAGE_PREFIX) return undefined;
        const marker = Buffer.from(msg.content).toString('utf8');
        if (msg.transactional && this.current) this.current.markers.push(marker);
        else if (msg.messageLsn) return { commitEndLsn: msg.messageLsn, commitTime: new Date(), changes: [], barrier: true, markers: [marker] };
        return undefined;
      }
      case 'commit': {
        const cur = this.current;
        this.current = null;
        if (!cur || !msg.commitEndLsn) return undefined;
        // commitTime: microseconds since the Unix epoch.
        return { commitEndLsn: msg.commitEndLsn, commitTime: new Date(Number(BigInt(msg.commitTime as bigint) / 1000n)), changes: cur.changes, barrier: cur.markers.length > 0, markers: cur.markers };
      }
      default:
        return undefined;
    }
  }
}
