import type { Pgoutput } from 'pg-logical-replication';
import type { Change, StreamItem } from './change-applier.ts';
import { FENCE_MESSAGE_PREFIX } from './follow-names.ts';
import type { SourceRow, TableApplier } from './table-applier.ts';

/**
 * Turns the pgoutput message stream into whole source transactions (begin … commit), resolving
 * each change to the applier of its table. Fence markers (logical messages with our prefix) make
 * their transaction a barrier that every target records. A transaction with more than
 * `chunkChanges` changes is not held whole: every `chunkChanges` changes go out as a
 * `PartialTransaction`, and its commit carries the rest (`streamedFrom`).
 */
export class TransactionAssembler {
  private current: { changes: Change[]; markers: string[]; commitLsn: string | null; commitTime: Date; streamed: boolean } | null = null;
  private readonly appliers: ReadonlyMap<string, TableApplier>;
  private readonly chunkChanges: number;

  /** `appliers` by "sourceSchema.sourceTable". */
  constructor(appliers: ReadonlyMap<string, TableApplier>, chunkChanges = Number.POSITIVE_INFINITY) {
    this.appliers = appliers;
    this.chunkChanges = chunkChanges;
  }

  /** True between a begin and its commit (something received is not yet a transaction). */
  get inTransaction(): boolean {
    return this.current !== null;
  }

  /** Feeds one message; returns a transaction when one is complete. Must run before the next message is parsed. */
  push(msg: Pgoutput.Message): StreamItem | undefined {
    switch (msg.tag) {
      case 'relation':
        // Keep values as the source's text: exact for timestamps (µs), numerics, enums, arrays, jsonb.
        for (const col of msg.columns) col.parser = (raw: unknown) => raw;
        return undefined;
      case 'begin':
        this.current = { changes: [], markers: [], commitLsn: msg.commitLsn, commitTime: new Date(Number(BigInt(msg.commitTime as bigint) / 1000n)), streamed: false };
        return undefined;
      case 'insert': case 'update': case 'delete': {
        const a = this.appliers.get(`${msg.relation.schema}.${msg.relation.name}`);
        if (!a || !this.current) return undefined;
        if (msg.tag === 'delete') this.current.changes.push({ op: 'delete', table: a, key: (msg.old ?? msg.key ?? {}) as SourceRow });
        else this.current.changes.push({ op: 'upsert', table: a, row: msg.new as SourceRow, old: msg.tag === 'update' ? ((msg.old ?? msg.key) as SourceRow | null) : null });
        return this.chunk();
      }
      case 'truncate': {
        const tables = msg.relations.map((r) => this.appliers.get(`${r.schema}.${r.name}`)).filter((a): a is TableApplier => a !== undefined);
        if (this.current && tables.length) this.current.changes.push({ op: 'truncate', tables });
        return this.chunk();
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
        return {
          commitEndLsn: msg.commitEndLsn, commitTime: new Date(Number(BigInt(msg.commitTime as bigint) / 1000n)), changes: cur.changes, barrier: cur.markers.length > 0, markers: cur.markers,
          ...(cur.streamed && cur.commitLsn ? { streamedFrom: cur.commitLsn } : {}),
        };
      }
      default:
        return undefined;
    }
  }

  /** The changes so far, sent ahead, once the open transaction holds `chunkChanges`. */
  private chunk(): StreamItem | undefined {
    const cur = this.current;
    if (!cur || cur.changes.length < this.chunkChanges || !cur.commitLsn) return undefined;
    const changes = cur.changes;
    cur.changes = [];
    cur.streamed = true;
    return { partial: true, commitLsn: cur.commitLsn, commitTime: cur.commitTime, changes };
  }
}
