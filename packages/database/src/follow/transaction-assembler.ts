import type { Pgoutput } from 'pg-logical-replication';
import { VendhubError } from '../errors/vendhub-error.ts';
import type { Change, StreamItem } from './change-applier.ts';
import { FENCE_MESSAGE_PREFIX } from './follow-names.ts';
import { lsnToBigInt } from './lsn.ts';
import type { SourceRow, TableApplier } from './table-applier.ts';

/**
 * Turns the pgoutput message stream into whole source transactions (begin … commit), resolving
 * each change to the applier of its table. Fence markers (logical messages with our prefix) make
 * their transaction a barrier that every target records. A transaction with more than
 * `chunkChanges` changes is not held whole: every `chunkChanges` changes go out as a
 * `PartialTransaction`, and its commit carries the rest (`streamedFrom`).
 *
 * pgoutput sends a Relation message (the table's columns) before the first change that uses a
 * shape the session has not sent yet. One the plan does not know (a column added, renamed or
 * dropped after the plan was made, a published table under a name the plan does not map) marks
 * every transaction with a change of that table `shapeError` until a known shape comes again; the
 * apply stage stops before applying anything of such a transaction.
 */
export class TransactionAssembler {
  private current: { changes: Change[]; markers: string[]; commitLsn: string | null; commitTime: Date; streamed: boolean; shapeError?: VendhubError } | null = null;
  private readonly appliers: ReadonlyMap<string, TableApplier>;
  private readonly chunkChanges: number;
  /** Per relation OID: why its current shape cannot be applied. */
  private readonly badShape = new Map<number, VendhubError>();
  private readonly fixHint: string;
  private readonly planLsn: bigint | undefined;

  /**
   * `appliers` by "sourceSchema.sourceTable"; `fixHint`: what to do about a changed shape;
   * `planLsn`: the source's WAL position before the plan read its catalog (unknown: every shape
   * the plan does not know exactly stops).
   */
  constructor(appliers: ReadonlyMap<string, TableApplier>, chunkChanges = Number.POSITIVE_INFINITY, fixHint = SOURCE_FIX, planLsn?: string) {
    this.appliers = appliers;
    this.chunkChanges = chunkChanges;
    this.fixHint = fixHint;
    this.planLsn = planLsn === undefined ? undefined : lsnToBigInt(planLsn);
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
        this.checkShape(msg);
        return undefined;
      case 'begin':
        this.current = { changes: [], markers: [], commitLsn: msg.commitLsn, commitTime: new Date(Number(BigInt(msg.commitTime as bigint) / 1000n)), streamed: false };
        return undefined;
      case 'insert': case 'update': case 'delete': {
        const bad = this.badShape.get(msg.relation.relationOid);
        if (bad && this.current) this.current.shapeError ??= bad;
        const a = this.appliers.get(`${msg.relation.schema}.${msg.relation.name}`);
        if (!a || !this.current) return undefined;
        if (msg.tag === 'delete') this.current.changes.push({ op: 'delete', table: a, key: (msg.old ?? msg.key ?? {}) as SourceRow });
        else this.current.changes.push({ op: 'upsert', table: a, row: msg.new as SourceRow, old: msg.tag === 'update' ? ((msg.old ?? msg.key) as SourceRow | null) : null });
        return this.chunk();
      }
      case 'truncate': {
        for (const r of msg.relations) {
          const bad = this.badShape.get(r.relationOid);
          if (bad && this.current) this.current.shapeError ??= bad;
        }
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
          ...(cur.shapeError ? { shapeError: cur.shapeError } : {}),
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
    return { partial: true, commitLsn: cur.commitLsn, commitTime: cur.commitTime, changes, ...(cur.shapeError ? { shapeError: cur.shapeError } : {}) };
  }

  /** Compares a Relation message with the plan (and with the shape this session sent before). */
  private checkShape(msg: Pgoutput.MessageRelation): void {
    const name = `${msg.schema}.${msg.name}`;
    const cols = msg.columns.map((c) => c.name);
    this.badShape.delete(msg.relationOid);
    const a = this.appliers.get(name);
    if (!a) {
      this.badShape.set(msg.relationOid, new VendhubError('SOURCE_SCHEMA_CHANGED',
        `the published table ${name} is not in the plan: a followed table was renamed (or added to the publication) on the source; its changes cannot be applied`, {
          details: { table: name, change: 'table-renamed' },
          hint: `Rename it back on the source, or map ${name} in the plan file (tables.<Model>.source), then run the follower again with that plan file: it resumes with this change.`,
        }));
      return;
    }
    const known = a.streamedColumns;
    if (!known) return;
    const added = cols.filter((c) => !known.has(c));
    const missing = [...known].filter((c) => !cols.includes(c));
    // A transaction committed before the plan read the catalog may carry an older shape: columns
    // added since are missing, columns dropped since are extra; both are fine. Only both at once
    // (a rename while no follower ran) cannot be applied by name.
    const commitLsn = this.current?.commitLsn;
    const older = this.planLsn !== undefined && commitLsn !== null && commitLsn !== undefined && lsnToBigInt(commitLsn) <= this.planLsn;
    if (older ? !(added.length && missing.length) : !(added.length || missing.length)) return;
    const what = [
      ...added.map((c) => `column "${c}" is new${missing.length ? '' : ' (ADD COLUMN)'}`),
      ...missing.map((c) => `column "${c}" is gone${added.length ? '' : ' (DROP COLUMN)'}`),
    ].join(', ');
    const rename = added.length && missing.length ? ` (RENAME COLUMN ${missing.map((c) => `"${c}"`).join(', ')} TO ${added.map((c) => `"${c}"`).join(', ')}?)` : '';
    const when = older ? 'in changes made before this follower started (renamed while no follower ran?)' : 'while following';
    this.badShape.set(msg.relationOid, new VendhubError('SOURCE_SCHEMA_CHANGED',
      `the source table ${name} changed shape ${when}: ${what}${rename}; nothing of the new shape was applied`, {
        details: { table: name, added, gone: missing, commitLsn },
        hint: older
          ? `These changes name columns the source no longer has and lack ones it has, so they cannot be applied by name. Rename the column back on the source until the follower has passed them (then rename again and follow that change), or \`vendhub-db split abort\` and start again.`
          : this.fixHint.replaceAll('<table>', name).replaceAll('<column>', added[0] ?? missing[0] ?? ''),
      }));
  }
}

/** What to do about a source table that changed shape under `split follow`. */
export const SOURCE_FIX = 'Either bring the target along: add the column to the service schema, create a new migration and run `vendhub-db migrate` for that service; '
  + 'or keep it out: in the plan file `"ignore": { "columns": { "<Model>.<column>": "<reason>" } }` (a renamed column: `"tables": { "<Model>": { "columns": { "<field>": { "source": "<column>" } } } }`). '
  + 'Then run `vendhub-db split follow` again (with --plan for a plan file): it resumes exactly with the change that stopped it (<table>).';
